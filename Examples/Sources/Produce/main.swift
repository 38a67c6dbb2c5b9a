// Sends ten keyed records and prints where each was stored.
import CreekClient

let bootstrap = CommandLine.arguments.dropFirst().first ?? "127.0.0.1:9092"
let producer = try await KafkaProducer.start(config: ProducerConfig(bootstrapServers: [bootstrap]))
for index in 0..<10 {
    let record = ProducerRecord(
        topic: "orders",
        key: Array("customer-\(index % 3)".utf8),  // same key, same partition
        value: Array(#"{"order": \#(index)}"#.utf8),
        headers: [RecordHeaderValue("source", Array("example".utf8))]
    )
    let stored = try await producer.send(record)
    print("order \(index) stored in partition \(stored.partition) at offset \(stored.offset)")
}
await producer.close()
