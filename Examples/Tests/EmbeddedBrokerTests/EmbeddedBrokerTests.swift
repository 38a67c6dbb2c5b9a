// A real Creek broker inside a test: started on a free port, gone afterwards.
import CreekBroker
import CreekClient
import Testing

@Test func recordsRoundTripThroughAnEmbeddedBroker() async throws {
    let broker = try await BrokerRuntime.embedded(["num.partitions": "1"])
    let producer = try await KafkaProducer.start(config: ProducerConfig(bootstrapServers: [broker.bootstrap]))
    let stored = try await producer.send(ProducerRecord(topic: "greetings", value: Array("hello".utf8)))
    await producer.close()

    let consumer = KafkaConsumer(config: ConsumerConfig(bootstrapServers: [broker.bootstrap]))
    consumer.assign([TopicPartition("greetings", 0)])
    consumer.seek(TopicPartition("greetings", 0), to: .beginning)
    var values: [String] = []
    for try await batch in consumer.batches() {
        values += batch.map { String(decoding: $0.value ?? [], as: UTF8.self) }
        break
    }
    await consumer.close()
    try await broker.shutdown()
    #expect(stored.offset == 0 && values == ["hello"])
}
