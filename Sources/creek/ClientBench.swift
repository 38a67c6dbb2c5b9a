import ArgumentParser
import CreekClient
#if canImport(Glibc)
import Glibc
#endif

/// The arguments of `creek bench produce|consume`, in the order of bench/creek-load.c so the
/// benchmark script drives the Swift client and librdkafka alike.
struct ClientBenchArguments: ParsableArguments {
    @Argument(help: "Bootstrap server, HOST:PORT.") var bootstrap: String
    @Argument(help: "The topic (it must exist).") var topic: String
    @Argument(help: "Its partition count; record i goes to partition i % PARTITIONS.") var partitions: Int32
    @Argument(help: "Records to send or read.") var count: Int

    /// CPU seconds this process used so far (user + system).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = (ContinuousClock.now - start).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }
}

/// `creek bench produce`: COUNT records of SIZE bytes through the Swift producer (linger
/// 5 ms as the librdkafka load generator); prints creek-load's figures line.
struct ProduceBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "produce", abstract: "Swift producer throughput.")

    @OptionGroup var arguments: ClientBenchArguments
    @Argument(help: "Record value size in bytes.") var size: Int
    @Argument(help: "acks: all, 1 or 0.") var acks = "all"
    @Flag(help: "Idempotent (the Swift client's default; off here to match librdkafka's default).") var idempotence = false

    func run() async throws {
        var config = ProducerConfig(bootstrapServers: [arguments.bootstrap])
        config.acks = acks == "0" ? .none : acks == "1" ? .leader : .all
        config.enableIdempotence = idempotence
        config.client.allowAutoTopicCreation = false
        let producer = try await KafkaProducer.start(config: config)
        let payload = (0..<size).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        _ = try await producer.send(ProducerRecord(topic: arguments.topic, partition: 0, value: payload))
        let (topic, count, partitions) = (arguments.topic, arguments.count, Int(arguments.partitions))
        let outcomes = Task {
            var (ok, failed) = (0, 0)
            for await reports in producer.deliveryReports {
                for report in reports {
                    if case .success = report { ok += 1 } else { failed += 1 }
                }
                if ok + failed == count { break }
            }
            return (ok, failed)
        }
        let (start, cpu) = (ContinuousClock.now, ClientBenchArguments.cpuSeconds())
        for index in 0..<count {
            try await producer.sendAsync(ProducerRecord(topic: topic, partition: Int32(index % partitions), value: payload))
        }
        await producer.flush()
        let (ok, failed) = await outcomes.value
        let seconds = ClientBenchArguments.seconds(since: start)
        let usedCPU = ClientBenchArguments.cpuSeconds() - cpu
        await producer.close()
        print("msgs=\(ok) failed=\(failed) seconds=\(String(format3: seconds)) msgs_per_sec=\(Int(Double(ok) / seconds)) "
            + "mb_per_sec=\(String(format3: Double(ok * size) / seconds / 1e6)) cpu_seconds=\(String(format3: usedCPU))")
        if failed > 0 { throw ExitCode(1) }
    }
}

/// `creek bench consume`: reads COUNT records from the beginning of every partition with the
/// Swift consumer (bounded: 15 s, as creek-load); prints creek-load's figures line.
struct ConsumeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "consume", abstract: "Swift consumer throughput.")

    @OptionGroup var arguments: ClientBenchArguments

    func run() async throws {
        let consumer = KafkaConsumer(config: ConsumerConfig(bootstrapServers: [arguments.bootstrap]))
        let partitions = (0..<arguments.partitions).map { TopicPartition(arguments.topic, $0) }
        consumer.assign(partitions)
        for partition in partitions { consumer.seek(partition, to: .beginning) }
        var (received, bytes) = (0, 0)
        var start: ContinuousClock.Instant?
        var cpu = 0.0
        let deadline = ContinuousClock.now + .seconds(15)
        while received < arguments.count && ContinuousClock.now < deadline {
            let batch = try await consumer.poll()
            if start == nil && !batch.isEmpty { (start, cpu) = (.now, ClientBenchArguments.cpuSeconds()) }
            received += batch.count
            for record in batch { bytes += record.valueBuffer?.readableBytes ?? 0 }
        }
        let seconds = start.map { ClientBenchArguments.seconds(since: $0) } ?? 0
        let usedCPU = ClientBenchArguments.cpuSeconds() - cpu
        await consumer.close()
        print("msgs=\(received) seconds=\(String(format3: seconds)) msgs_per_sec=\(Int(Double(received) / max(seconds, 1e-9))) "
            + "mb_per_sec=\(String(format3: Double(bytes) / max(seconds, 1e-9) / 1e6)) complete=\(received >= arguments.count ? 1 : 0) cpu_seconds=\(String(format3: usedCPU))")
    }
}

extension String {
    /// `value` with three decimals (no Foundation formatting needed).
    init(format3 value: Double) {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(abs(thousandths) % 1000)
        self = "\(thousandths / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
