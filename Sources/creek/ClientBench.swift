import ArgumentParser
import CreekClient
import Histogram
#if canImport(Glibc)
import Glibc
#endif

/// What `creek bench produce|consume` share: where, how many or how long, and how to report
/// (a table, `--json`, or `--figures`: bench/creek-load.c's line, for the benchmark scripts).
struct ClientBenchOptions: ParsableArguments {
    @OptionGroup var client: ClientOptions
    @Argument(help: "The topic.") var topic: String
    @Option(help: "Records to send or read (default: 1,000,000 for produce; everything there for consume).") var count: Int?
    @Option(help: "Stop after this many seconds instead.") var duration: Double?
    @Flag(help: "Print one JSON document instead of the table.") var json = false
    @Flag(help: "Print bench/creek-load.c's figures line (msgs=… msgs_per_sec=…) instead of the table.") var figures = false

    /// CPU seconds this process used so far (user + system).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    var progress: ProgressLine { ProgressLine(enabled: !json && !figures && isatty(2) == 1) }

    /// The final report, in the chosen form.
    func report(_ result: BenchResult) throws {
        if figures {
            print("msgs=\(result.records) failed=\(result.failed) seconds=\(String(format3: result.seconds)) msgs_per_sec=\(Int(result.recordsPerSecond)) "
                + "mb_per_sec=\(String(format3: result.megabytesPerSecond)) complete=\(result.complete ? 1 : 0) cpu_seconds=\(String(format3: result.cpuSeconds))")
            return
        }
        let latency = result.latencyMs ?? [:]
        let columns = ["RECORDS", "SECONDS", "REC/S", "MB/S", "CPU S"] + (result.latencyMs == nil ? [] : ["P50 MS", "P99 MS", "P99.9 MS", "MAX MS"])
        var row = [String(result.records), String(format3: result.seconds), String(Int(result.recordsPerSecond)),
                   String(format3: result.megabytesPerSecond), String(format3: result.cpuSeconds)]
        if result.latencyMs != nil { row += ["p50", "p99", "p99.9", "max"].map { String(format3: latency[$0] ?? 0) } }
        try OutputOption(output: json ? .json : .text).emit(result) { table(columns, [row]) }
    }
}

/// The figures of one bench run.
struct BenchResult: Encodable {
    var records: Int
    var failed = 0
    var complete = true
    var seconds: Double
    var cpuSeconds: Double
    var bytes: Int
    var latencyMs: [String: Double]?
    var recordsPerSecond: Double { Double(records) / max(seconds, 1e-9) }
    var megabytesPerSecond: Double { Double(bytes) / max(seconds, 1e-9) / 1e6 }

    enum CodingKeys: String, CodingKey { case records, failed, complete, seconds, cpuSeconds, bytes, latencyMs, recordsPerSecond, megabytesPerSecond }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(records, forKey: .records)
        try container.encode(failed, forKey: .failed)
        try container.encode(complete, forKey: .complete)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(cpuSeconds, forKey: .cpuSeconds)
        try container.encode(bytes, forKey: .bytes)
        try container.encodeIfPresent(latencyMs, forKey: .latencyMs)
        try container.encode(recordsPerSecond, forKey: .recordsPerSecond)
        try container.encode(megabytesPerSecond, forKey: .megabytesPerSecond)
    }

    /// p50, p99, p99.9 and max of a histogram of microseconds, in milliseconds.
    static func percentiles(_ histogram: Histogram<UInt64>) -> [String: Double] {
        var result = Dictionary(uniqueKeysWithValues: [("p50", 50.0), ("p99", 99.0), ("p99.9", 99.9)].map {
            ($0.0, Double(histogram.valueAtPercentile($0.1)) / 1000)
        })
        result["max"] = Double(histogram.max) / 1000
        return result
    }
}

extension String {
    /// `value` with three decimals (no Foundation formatting needed).
    init(format3 value: Double) {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(abs(thousandths) % 1000)
        self = "\(thousandths < 0 ? "-" : "")\(abs(thousandths) / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
