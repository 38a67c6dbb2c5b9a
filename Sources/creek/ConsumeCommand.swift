import ArgumentParser
import CreekClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `creek consume TOPIC`: prints records with the Swift client (assigned partitions).
struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Print a topic's records (text values, or JSON lines with --output json)."
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The topic.")
    var topic: String

    @Option(help: "Where to start: beginning, end, an offset, or @TIMESTAMP (ms).")
    var from = "beginning"

    @Option(help: "Only this partition.")
    var partition: Int32?

    @Option(help: "Stop after this many records.")
    var count: Int?

    @Flag(help: "Keep waiting for new records at the end (default: stop at the end).")
    var follow = false

    @Option(help: "Output: text (values) or json (one JSON record per line, base64 fields).")
    var output = "text"

    @Option(help: "Isolation: read_uncommitted or read_committed.")
    var isolation = "read_uncommitted"

    func run() async throws {
        var config = ConsumerConfig(bootstrapServers: client.bootstrapServers)
        config.isolationLevel = isolation == "read_committed" ? .readCommitted : .readUncommitted
        config.fetchMaxWait = .milliseconds(follow ? 500 : 100)
        let consumer = KafkaConsumer(config: config)
        let partitions: [TopicPartition]
        if let partition {
            partitions = [TopicPartition(topic, partition)]
        } else {
            let count = try await consumer.partitionCount(of: topic)
            partitions = (0..<count).map { TopicPartition(topic, Int32($0)) }
        }
        consumer.assign(partitions)
        let target: SeekTarget
        switch from {
        case "beginning": target = .beginning
        case "end": target = .end
        case _ where from.hasPrefix("@"):
            guard let time = Int64(from.dropFirst()) else { throw ValidationError("--from @TIMESTAMP needs milliseconds") }
            target = .timestamp(time)
        default:
            guard let offset = Int64(from) else { throw ValidationError("--from must be beginning, end, an offset or @TIMESTAMP") }
            target = .offset(offset)
        }
        for partition in partitions { consumer.seek(partition, to: target) }
        // Without --follow, stop at the high watermarks as they are now.
        let ends = follow ? [:] : try await consumer.offsets(partitions, at: -1)
        var printed = 0
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func done() -> Bool {
            if let count, printed >= count { return true }
            guard !follow else { return false }
            // A position not resolved yet (a seek by time or to the end) is not done.
            return partitions.allSatisfy { partition in consumer.position(partition).map { $0 >= (ends[partition] ?? 0) } ?? false }
        }
        loop: while !done() {
            for record in try await consumer.poll() {
                if output == "json" {
                    let json = JSONRecord(
                        topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp,
                        key: JSONRecord.encode(record.key), value: JSONRecord.encode(record.value),
                        headers: record.headers.map { [$0.key, JSONRecord.encode($0.value)] }
                    )
                    print(String(decoding: try encoder.encode(json), as: UTF8.self))
                } else {
                    print(String(decoding: record.value ?? [], as: UTF8.self))
                }
                printed += 1
                if let count, printed >= count { break loop }
            }
        }
        await consumer.close()
    }
}
