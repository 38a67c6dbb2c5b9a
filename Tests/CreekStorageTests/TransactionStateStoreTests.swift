import CreekStorage
import Foundation
import Testing

@Suite("Transaction state store")
struct TransactionStateStoreTests {
    @Test("adopting a cluster's shared state keeps only the ids coordinated here, and spares ids in use")
    func adoptKeepsCoordinatedIds() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try TransactionStateStore(dataDirectory: directory)
        var busy = TransactionMetadata(transactionalId: "busy", producerId: 1, producerEpoch: 4, timeoutMs: 1000, nowMs: 0)
        busy.state = .ongoing
        try store.put(busy)
        try store.put(TransactionMetadata(transactionalId: "moved-away", producerId: 2, producerEpoch: 0, timeoutMs: 1000, nowMs: 0))
        try store.put(TransactionMetadata(transactionalId: "stale", producerId: 3, producerEpoch: 0, timeoutMs: 1000, nowMs: 0))

        var newer = TransactionMetadata(transactionalId: "stale", producerId: 3, producerEpoch: 7, timeoutMs: 1000, nowMs: 5)
        newer.state = .prepareCommit
        let shared = [
            newer,
            TransactionMetadata(transactionalId: "busy", producerId: 1, producerEpoch: 0, timeoutMs: 1000, nowMs: 0),
            TransactionMetadata(transactionalId: "moved-away", producerId: 2, producerEpoch: 9, timeoutMs: 1000, nowMs: 0),
            TransactionMetadata(transactionalId: "taken-over", producerId: 8, producerEpoch: 2, timeoutMs: 1000, nowMs: 0),
        ]
        store.adopt(shared, keeping: { $0 != "moved-away" }, sparing: ["busy"])

        #expect(Set(store.all.keys) == ["busy", "stale", "taken-over"])
        #expect(store.get("stale") == newer)
        #expect(store.get("busy") == busy, "an id with an operation in flight keeps the state that operation works on")
        #expect(store.get("taken-over")?.producerEpoch == 2)
        #expect(store.get("moved-away") == nil)
    }
}
