import CreekBroker
@testable import CreekClient
import KafkaProtocol
import NIOConcurrencyHelpers
import Testing

@Suite("Swift group consumer against an embedded broker")
struct GroupConsumerTests {
    @Test("range and round-robin assign every partition once, as Kafka's assignors do")
    func assignors() {
        let subscriptions = ["m1": ["a", "b"], "m2": ["a"], "m3": ["a", "b"]]
        let counts = ["a": 5, "b": 2]
        let range = Assignor.range.assign(subscriptions, partitionCounts: counts)
        #expect(range["m1"] == [TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)])
        #expect(range["m2"] == [TopicPartition("a", 2), TopicPartition("a", 3)])
        #expect(range["m3"] == [TopicPartition("a", 4), TopicPartition("b", 1)])
        for assignor in Assignor.allCases {
            let plan = assignor.assign(subscriptions, partitionCounts: counts)
            let all = plan.values.flatMap { $0 }
            #expect(all.count == 7 && Set(all).count == 7, "\(assignor)")
            #expect(!(plan["m2"] ?? []).contains { $0.topic == "b" }, "\(assignor): m2 is not subscribed to b")
        }
    }

    @Test("cooperative-sticky keeps partitions where they are, balances, and withholds a moving partition for one round")
    func stickyAssignor() {
        let counts = ["t": 6]
        let first = Assignor.cooperativeSticky.assign(["a": MemberSubscription(topics: ["t"]), "b": MemberSubscription(topics: ["t"])], partitionCounts: counts)
        #expect(first.values.map(\.count).sorted() == [3, 3])
        #expect(Set(first.values.flatMap { $0 }).count == 6)
        // c joins: a and b keep two each; the partition each gives up is withheld this round.
        let owned = first.mapValues { MemberSubscription(topics: ["t"], owned: $0, generation: 1) }
        var members = owned
        members["c"] = MemberSubscription(topics: ["t"])
        let second = Assignor.cooperativeSticky.assign(members, partitionCounts: counts)
        for name in ["a", "b"] {
            let kept = second[name] ?? []
            #expect(kept.count == 2 && Set(kept).isSubset(of: Set(first[name] ?? [])), "\(name) keeps two of its own")
        }
        #expect(second["c"] == [], "c waits until the owners revoked")
        // Next round, with the revocations done: c gets the two freed partitions.
        let third = Assignor.cooperativeSticky.assign([
            "a": MemberSubscription(topics: ["t"], owned: second["a"] ?? [], generation: 2),
            "b": MemberSubscription(topics: ["t"], owned: second["b"] ?? [], generation: 2),
            "c": MemberSubscription(topics: ["t"], owned: [], generation: 2),
        ], partitionCounts: counts)
        #expect(third["a"] == second["a"] && third["b"] == second["b"])
        #expect(third["c"]?.count == 2 && Set(third.values.flatMap { $0 }).count == 6)
        // A partition two members claim stays with the newer generation.
        let claimed = Assignor.cooperativeSticky.assign([
            "a": MemberSubscription(topics: ["t"], owned: [TopicPartition("t", 0)], generation: 3),
            "b": MemberSubscription(topics: ["t"], owned: [TopicPartition("t", 0)], generation: 2),
        ], partitionCounts: ["t": 2])
        #expect(claimed["a"]?.contains(TopicPartition("t", 0)) == true && claimed["b"]?.contains(TopicPartition("t", 0)) == false)
    }

    @Test("five members joining, leaving and crashing while records flow: each record processed exactly once with manual commits",
          arguments: [[Assignor.range, .roundRobin], [Assignor.cooperativeSticky]])
    func membersComeAndGo(assignors: [Assignor]) async throws {
        try await withEmbeddedBroker(["num.partitions": "6", "group.min.session.timeout.ms": "1000"]) { broker in
            let total = 3_000
            let processed = NIOLockedValueBox<[Int]>([])
            let stopping = NIOLockedValueBox<Set<Int>>([])
            let producer = try await KafkaProducer.start(config: ProducerConfig(bootstrapServers: [broker.bootstrap]))
            _ = try await producer.send(ProducerRecord(topic: "work", key: Array("warm".utf8), value: Array("-1".utf8)))

            func member(_ name: String) -> GroupConsumer {
                var consumer = ConsumerConfig(bootstrapServers: [broker.bootstrap])
                consumer.autoOffsetReset = .earliest
                var group = GroupConfig(groupId: "workers")
                group.enableAutoCommit = false
                group.sessionTimeout = .seconds(2)
                group.heartbeatInterval = .milliseconds(300)
                group.assignors = assignors
                return GroupConsumer(consumer: consumer, group: group)
            }
            func run(_ consumer: GroupConsumer, _ number: Int) -> Task<Void, any Error> {
                consumer.subscribe(["work"])
                return Task {
                    for try await batch in consumer.batches() {
                        // A member told to stop processes nothing more: what it fetched
                        // but did not commit goes to the next owner.
                        if stopping.withLockedValue({ $0.contains(number) }) { break }
                        let values = batch.compactMap { Int(String(decoding: $0.value ?? [], as: UTF8.self)) }.filter { $0 >= 0 }
                        processed.withLockedValue { $0 += values }
                        try await consumer.commit()
                    }
                }
            }
            var members = (0..<3).map { member("m\($0)") }
            var tasks = members.enumerated().map { run($0.element, $0.offset) }
            let sending = Task {
                for index in 0..<total {
                    try await producer.sendAsync(ProducerRecord(topic: "work", key: Array("k\(index)".utf8), value: Array(String(index).utf8)))
                    if index % 100 == 99 { try await Task.sleep(for: .milliseconds(20)) }
                }
                await producer.flush()
            }
            func waitFor(_ count: Int) async throws {
                let deadline = ContinuousClock.now + .seconds(60)
                while processed.withLockedValue({ Set($0).count }) < count && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            try await waitFor(500)
            for name in ["m3", "m4"] {
                let joining = member(name)
                members.append(joining)
                tasks.append(run(joining, tasks.count))
            }
            try await waitFor(1_500)
            func stop(_ number: Int) async {
                stopping.withLockedValue { _ = $0.insert(number) }
                tasks[number].cancel()
                _ = await tasks[number].result
            }
            await stop(1)
            await members[1].close()
            try await waitFor(2_000)
            await stop(2)
            await members[2].abandon()
            try await sending.value
            try await waitFor(total)
            for index in tasks.indices where index != 1 && index != 2 {
                await stop(index)
                await members[index].close()
            }
            await producer.close()
            let values = processed.withLockedValue { $0 }
            #expect(Set(values).count == total, "every record processed")
            #expect(values.count == total, "none twice (\(values.count - Set(values).count) duplicates)")
        }
    }

    @Test("with cooperative-sticky a joining member takes half and the first member revokes only that half, keeping the rest")
    func cooperativeJoin() async throws {
        try await withEmbeddedBroker(["num.partitions": "6"]) { broker in
            let revoked = NIOLockedValueBox<[String: [TopicPartition]]>([:])
            func member(_ name: String) -> GroupConsumer {
                var consumer = ConsumerConfig(bootstrapServers: [broker.bootstrap])
                consumer.autoOffsetReset = .earliest
                consumer.fetchMaxWait = .milliseconds(100)
                var group = GroupConfig(groupId: "incremental")
                group.assignors = [.cooperativeSticky]
                group.heartbeatInterval = .milliseconds(200)
                let member = GroupConsumer(consumer: consumer, group: group)
                member.onPartitionsRevoked { partitions in revoked.withLockedValue { $0[name, default: []] += partitions } }
                member.subscribe(["jobs"])
                return member
            }
            let admin = KafkaAdmin(config: ClientConfig(bootstrapServers: [broker.bootstrap]))
            try await admin.createTopics([NewTopic(name: "jobs", partitions: 6)])
            let first = member("first")
            let second = member("second")
            // Each member polls in a task of its own, as each would in its own process; the
            // second starts once the first holds all six.
            func polling(_ member: GroupConsumer) -> Task<Void, any Error> {
                Task {
                    while !Task.isCancelled { _ = try await member.poll() }
                }
            }
            var tasks = [polling(first)]
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline && first.assignment.count != 6 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(first.assignment.count == 6)
            tasks.append(polling(second))
            while ContinuousClock.now < deadline && (first.assignment.count != 3 || second.assignment.count != 3) {
                try await Task.sleep(for: .milliseconds(50))
            }
            for task in tasks {
                task.cancel()
                _ = await task.result
            }
            #expect(first.assignment.count == 3 && second.assignment.count == 3)
            #expect(Set(first.assignment).isDisjoint(with: second.assignment))
            // The first member gave up exactly the three partitions that moved, never all six.
            let firstRevoked = revoked.withLockedValue { $0["first"] ?? [] }
            #expect(firstRevoked.count == 3 && Set(firstRevoked) == Set(second.assignment))
            let described = try await admin.describeGroup("incremental")
            #expect(described.protocolName == "cooperative-sticky" && described.members.count == 2)
            await first.close()
            await second.close()
            await admin.close()
        }
    }
}
