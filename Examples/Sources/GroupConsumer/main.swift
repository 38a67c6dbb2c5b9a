// Reads "orders" as a member of the group "billing", committing after each batch.
import CreekClient

let bootstrap = CommandLine.arguments.dropFirst().first ?? "127.0.0.1:9092"
var settings = ConsumerConfig(bootstrapServers: [bootstrap])
settings.autoOffsetReset = .earliest
var group = GroupConfig(groupId: "billing")
group.enableAutoCommit = false
let consumer = GroupConsumer(consumer: settings, group: group)
consumer.onPartitionsAssigned { print("assigned: \($0)") }
consumer.subscribe(["orders"])
var processed = 0
for try await batch in consumer.batches() {  // one element per fetch round
    for record in batch {
        print("\(record.partition)/\(record.offset): \(String(decoding: record.value ?? [], as: UTF8.self))")
    }
    try await consumer.commit()  // after processing: at-least-once
    processed += batch.count
    if processed >= 10 { break }
}
await consumer.close()
