@testable import CreekBroker
import CreekStorage
import KafkaProtocol
import Logging
import NIOCore
import Testing

import Foundation

/// Incremental fetch sessions (KIP-227) through the real Fetch handler and storage.
@Suite("Fetch sessions")
struct FetchSessionTests {
    /// A broker on a temporary directory with topic "s" of three partitions.
    final class Fixture {
        let directory: String
        let broker: Broker
        let topicId: KafkaUUID

        init(slots: Int = 1000) async throws {
            directory = NSTemporaryDirectory() + "creek-fetch-session-" + UUID().uuidString
            var config = BrokerConfig()
            config.dataDirectory = directory
            config.maxIncrementalFetchSessionCacheSlots = slots
            let logger = Logger(label: "fetch-session", factory: { _ in SwiftLogNoOpLogHandler() })
            broker = try Broker.open(config: config, logger: logger, clock: { 1_700_000_000_000 })
            topicId = try await broker.topics.create(name: "s", partitions: 3).id
        }

        deinit {
            try? FileManager.default.removeItem(atPath: directory)
        }

        func produce(partition: Int32, values: [String]) async {
            var builder = RecordBatchBuilder()
            for value in values {
                builder.append(.init(timestamp: 1_700_000_000_000, key: nil, value: ByteBuffer(string: value)))
            }
            let request = ProduceRequest(acks: 1, timeoutMs: 5_000, topicData: [
                .init(name: "s", partitionData: [.init(index: partition, records: .bytes(builder.build().buffer))]),
            ])
            let context = RequestContext(apiKey: .produce, apiVersion: 9, correlationId: 1, clientId: "t", peer: "t")
            let response = await ProduceHandler(broker: broker).handle(request, context: context)
            #expect(response?.responses.first?.partitionResponses.first?.errorCode == 0)
        }

        /// One Fetch with `maxWaitMs` 0; partitions as (index, fetchOffset).
        func fetch(
            version: Int16 = 12, session: Int32, epoch: Int32, partitions: [(Int32, Int64)] = [], forget: [Int32] = []
        ) async -> FetchResponse {
            var request = FetchRequest()
            request.maxWaitMs = 0
            request.sessionId = session
            request.sessionEpoch = epoch
            let useIds = version >= 13
            if !partitions.isEmpty {
                request.topics = [.init(topic: useIds ? "" : "s", topicId: useIds ? topicId : .zero, partitions: partitions.map {
                    FetchRequest.FetchPartition(partition: $0.0, fetchOffset: $0.1, partitionMaxBytes: 1 << 20)
                })]
            }
            if !forget.isEmpty {
                request.forgottenTopicsData = [.init(topic: useIds ? "" : "s", topicId: useIds ? topicId : .zero, partitions: forget)]
            }
            let context = RequestContext(apiKey: .fetch, apiVersion: version, correlationId: 1, clientId: "t", peer: "t")
            return await FetchHandler(broker: broker).handle(request, context: context) ?? FetchResponse()
        }
    }

    /// (partition, record bytes, high watermark) of every partition in the response.
    private func summary(_ response: FetchResponse) -> [(Int32, Int, Int64)] {
        response.responses.flatMap { topic in
            topic.partitions.map { ($0.partitionIndex, $0.records?.byteCount ?? 0, $0.highWatermark) }
        }
    }

    @Test("a session answers only what changed, honours forgotten partitions and checks its epoch")
    func incremental() async throws {
        let fixture = try await Fixture()
        await fixture.produce(partition: 0, values: ["a", "b"])

        let full = await fixture.fetch(session: 0, epoch: 0, partitions: [(0, 0), (1, 0), (2, 0)])
        let id = full.sessionId
        #expect(full.errorCode == 0 && id > 0)
        #expect(summary(full).map(\.0) == [0, 1, 2], "a full fetch answers every partition")
        #expect(summary(full)[0].1 > 0 && summary(full)[0].2 == 2)

        // The client moved partition 0 past its records: nothing is new anywhere.
        let quiet = await fixture.fetch(session: id, epoch: 1, partitions: [(0, 2)])
        #expect(quiet.errorCode == 0 && quiet.sessionId == id)
        #expect(summary(quiet).isEmpty, "unchanged partitions are left out")

        await fixture.produce(partition: 2, values: ["c"])
        let news = await fixture.fetch(session: id, epoch: 2)
        #expect(summary(news).map(\.0) == [2], "only the partition with new records")
        #expect(summary(news).first?.2 == 1)

        // A repeated epoch and an unknown id are refused; the refusal does not use up an epoch.
        #expect(await fixture.fetch(session: id, epoch: 2).errorCode == KafkaErrorCode.invalidFetchSessionEpoch.rawValue)
        #expect(await fixture.fetch(session: id &+ 1, epoch: 1).errorCode == KafkaErrorCode.fetchSessionIdNotFound.rawValue)
        #expect(await fixture.fetch(version: 13, session: id, epoch: 3).errorCode == KafkaErrorCode.fetchSessionTopicIdError.rawValue)

        // Partition 2 forgotten (and the client's position on it moved): appends there are not reported.
        let forgot = await fixture.fetch(session: id, epoch: 3, forget: [2])
        #expect(forgot.errorCode == 0 && summary(forgot).isEmpty)
        await fixture.produce(partition: 2, values: ["d"])
        await fixture.produce(partition: 1, values: ["e"])
        let after = await fixture.fetch(session: id, epoch: 4)
        #expect(summary(after).map(\.0) == [1])

        // Epoch -1 closes the session: a plain full answer, and the id is gone.
        let closing = await fixture.fetch(session: id, epoch: -1, partitions: [(1, 0)])
        #expect(closing.sessionId == 0 && summary(closing).map(\.0) == [1])
        #expect(await fixture.fetch(session: id, epoch: 5).errorCode == KafkaErrorCode.fetchSessionIdNotFound.rawValue)
        #expect(fixture.broker.fetchSessions.count == 0)
    }

    @Test("topic-id sessions (v13+) report errors every time and re-send a partition once it recovers")
    func byTopicId() async throws {
        let fixture = try await Fixture()
        let full = await fixture.fetch(version: 13, session: 0, epoch: 0, partitions: [(0, 0), (7, 0)])
        #expect(full.sessionId > 0)
        #expect(full.responses.first?.topicId == fixture.topicId)
        let errors = summary(full).filter { $0.0 == 7 }
        #expect(errors.count == 1 && full.responses[0].partitions.first { $0.partitionIndex == 7 }?.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)
        let again = await fixture.fetch(version: 13, session: full.sessionId, epoch: 1)
        #expect(summary(again).map(\.0) == [7], "a partition in error is in every response")
        await fixture.produce(partition: 0, values: ["x"])
        let data = await fixture.fetch(version: 14, session: full.sessionId, epoch: 2)
        #expect(Set(summary(data).map(\.0)) == [0, 7])
    }

    @Test("sessionless fetches create nothing and a full cache answers without a session")
    func limits() async throws {
        let fixture = try await Fixture(slots: 1)
        let legacy = await fixture.fetch(session: 0, epoch: -1, partitions: [(0, 0)])
        #expect(legacy.sessionId == 0 && fixture.broker.fetchSessions.count == 0)
        let first = await fixture.fetch(session: 0, epoch: 0, partitions: [(0, 0)])
        let second = await fixture.fetch(session: 0, epoch: 0, partitions: [(1, 0)])
        #expect(first.sessionId > 0 && second.sessionId == 0, "the only slot is taken and not idle")
        #expect(summary(second).map(\.0) == [1], "the fetch itself is still answered")
        // Epoch 0 naming the existing session replaces it.
        let replaced = await fixture.fetch(session: first.sessionId, epoch: 0, partitions: [(2, 0)])
        #expect(replaced.sessionId > 0 && replaced.sessionId != first.sessionId)
        #expect(fixture.broker.fetchSessions.count == 1)
    }
}
