import CreekFuzzing
import Foundation
import Testing

/// Replays the committed libFuzzer corpus (`FuzzCorpus/<target>/`, grown by
/// `scripts/fuzz.sh`) through the same entry points the fuzzer drives: every input must
/// be handled without a trap.
@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
    @Test("every committed fuzz input is handled", arguments: FuzzTarget.allCases)
    func replay(target: FuzzTarget) throws {
        let root = try #require(Bundle.module.url(forResource: "FuzzCorpus", withExtension: nil))
        let folder = root.appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        #expect(names.count >= 5, "the \(target.rawValue) corpus should hold at least 5 inputs")
        for name in names {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            target.run(Array(data))
        }
    }
}
