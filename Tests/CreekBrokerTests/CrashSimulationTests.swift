import Foundation
import Testing

/// Crash simulation (`CrashSimulation/CrashRunner.swift`): seeded random workloads on a
/// simulated file system, power cut at random file operations, every storage promise
/// checked after each recovery. `CREEK_CRASH_SEEDS` (default 500) seeds of
/// `CREEK_CRASH_CYCLES` (default 20) crash points each; `CREEK_CRASH_SEED` replays one seed.
@Suite("Crash simulation")
struct CrashSimulationTests {
    @Test("acknowledged data survives power cuts at random file operations")
    func randomCrashes() async throws {
        let environment = ProcessInfo.processInfo.environment
        let cycles = Int(environment["CREEK_CRASH_CYCLES"] ?? "") ?? 20
        let seeds: [UInt64]
        if let one = environment["CREEK_CRASH_SEED"].flatMap(UInt64.init) {
            seeds = [one]
        } else {
            let count = UInt64(environment["CREEK_CRASH_SEEDS"] ?? "") ?? 500
            let first = UInt64(environment["CREEK_CRASH_FIRST_SEED"] ?? "") ?? 1
            seeds = Array(first..<(first + count))
        }
        let (crashes, failures) = await withTaskGroup(of: (Int, [String]).self) { group in
            var results = (0, [String]())
            var iterator = seeds.makeIterator()
            func launch() -> Bool {
                guard let seed = iterator.next() else { return false }
                group.addTask {
                    let runner = CrashRunner(seed: seed)
                    let crashes = await runner.run(cycles: cycles)
                    return (crashes, runner.failures)
                }
                return true
            }
            for _ in 0..<4 where launch() {}
            for await (crashes, failures) in group {
                results.0 += crashes
                results.1 += failures
                _ = launch()
            }
            return results
        }
        print("crash simulation: \(seeds.count) seeds, \(crashes) crash points checked, \(failures.count) failures")
        for failure in failures.prefix(5) { print(failure) }
        #expect(failures.isEmpty, "\(failures.count) seeds failed; first: \(failures.first ?? "")")
        #expect(crashes >= seeds.count * cycles || !failures.isEmpty)
    }
}
