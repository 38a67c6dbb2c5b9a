#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the broker process uses now: resident memory (`/proc/self/statm`), CPU time
/// (`getrusage`) and open file descriptors (entries of `/proc/self/fd`). Zero where the
/// platform does not say.
struct ProcessStats: Sendable {
    var residentBytes: Int
    var cpuSeconds: Double
    var openFiles: Int

    static func current() -> ProcessStats {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return ProcessStats(residentBytes: residentPages() * Int(sysconf(Int32(_SC_PAGESIZE))), cpuSeconds: cpu, openFiles: countOpenFiles())
    }

    /// Nanoseconds on the monotonic clock.
    static func monotonicNanos() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    private static func residentPages() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var size = 0
        var resident = 0
        return readTwoIntegers(file, &size, &resident) ? resident : 0
    }

    private static func readTwoIntegers(_ file: UnsafeMutablePointer<FILE>, _ first: inout Int, _ second: inout Int) -> Bool {
        var line = [CChar](repeating: 0, count: 128)
        guard fgets(&line, Int32(line.count), file) != nil else { return false }
        let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
        guard fields.count >= 2, let a = Int(fields[0]), let b = Int(fields[1]) else { return false }
        first = a
        second = b
        return true
    }

    private static func countOpenFiles() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while readdir(directory) != nil { count += 1 }
        // ".", ".." and the descriptor opendir itself holds.
        return max(0, count - 3)
    }
}
