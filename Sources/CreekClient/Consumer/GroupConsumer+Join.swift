import KafkaProtocol
import NIOCore

extension GroupConsumer {
    /// Leaves the current assignment (revoking, committing with auto commit) and joins the
    /// group again: JoinGroup (with the member id the coordinator asks for), the leader's
    /// assignment, SyncGroup, then each assigned partition starts at its committed offset.
    func join() async throws {
        let held = consumer.assignment
        let wasJoined = member.withLockedValue { $0.joined }
        // Cooperative (KIP-429): keep consuming what we hold; only partitions that move are
        // revoked, after the new assignment arrives. Eager: revoke everything first.
        let cooperative = !group.assignors.isEmpty && group.assignors.allSatisfy(\.isCooperative)
        if !held.isEmpty && !cooperative {
            if group.enableAutoCommit && wasJoined {
                do { try await commit() } catch { logger.warning("commit before revoking failed", metadata: ["error": "\(error)"]) }
            }
            if let revoked = callbacks.withLockedValue({ $0.revoked }) { await revoked(held) }
            consumer.assign([])
        }
        let (topics, previousHeartbeat) = member.withLockedValue { state in
            state.joined = false
            defer { state.heartbeat = nil }
            return (state.topics, state.heartbeat)
        }
        previousHeartbeat?.cancel()
        guard !topics.isEmpty else { throw KafkaClientError.invalidArgument("subscribe to at least one topic first") }
        let timeout = consumer.config.client.requestTimeout
        var memberId = member.withLockedValue { $0.memberId }
        var backoff = consumer.config.client.retryBackoff
        for _ in 0..<50 {
            let connection = try await coordinator.coordinator()
            var request = JoinGroupRequest()
            request.groupId = group.groupId
            request.sessionTimeoutMs = Int32(group.sessionTimeout.components.seconds * 1000)
            request.rebalanceTimeoutMs = Int32(group.rebalanceTimeout.components.seconds * 1000)
            request.memberId = memberId
            request.groupInstanceId = group.groupInstanceId
            request.protocolType = "consumer"
            let ownedTopics = cooperative ? Dictionary(grouping: held, by: \.topic).map {
                ConsumerProtocolSubscription.TopicPartition(topic: $0.key, partitions: $0.value.map(\.partition).sorted())
            } : []
            let heldGeneration = member.withLockedValue { $0.generation }
            let subscription = GroupCoordinatorClient.encode(
                ConsumerProtocolSubscription(topics: topics, userData: nil, ownedPartitions: ownedTopics, generationId: heldGeneration, rackId: nil), version: 2
            )
            request.protocols = group.assignors.map { .init(name: $0.rawValue, metadata: subscription) }
            let joinVersion = try connection.version(of: .joinGroup, supported: 0...7)
            let joined = try await connection.send(request, version: joinVersion, timeout: group.rebalanceTimeout + timeout)
            switch KafkaErrorCode(rawValue: joined.errorCode) {
            case .memberIdRequired?:
                memberId = joined.memberId
                continue
            case .unknownMemberId?:
                memberId = ""
                continue
            case .rebalanceInProgress?, .coordinatorLoadInProgress?, .notCoordinator?, .coordinatorNotAvailable?:
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, consumer.config.client.retryBackoffMax)
                continue
            default:
                try coordinator.check(joined.errorCode, "JoinGroup")
            }
            memberId = joined.memberId
            var assignments: [SyncGroupRequest.SyncGroupRequestAssignment] = []
            if joined.leader == joined.memberId {
                assignments = try await assign(joined)
            }
            var sync = SyncGroupRequest()
            sync.groupId = group.groupId
            sync.generationId = joined.generationId
            sync.memberId = memberId
            sync.groupInstanceId = group.groupInstanceId
            sync.protocolType = "consumer"
            sync.protocolName = joined.protocolName
            sync.assignments = assignments
            let syncVersion = try connection.version(of: .syncGroup, supported: 0...5)
            let synced = try await connection.send(sync, version: syncVersion, timeout: group.rebalanceTimeout + timeout)
            if synced.errorCode == KafkaErrorCode.rebalanceInProgress.rawValue { continue }
            if synced.errorCode == KafkaErrorCode.unknownMemberId.rawValue || synced.errorCode == KafkaErrorCode.illegalGeneration.rawValue {
                if synced.errorCode == KafkaErrorCode.unknownMemberId.rawValue { memberId = "" }
                continue
            }
            try coordinator.check(synced.errorCode, "SyncGroup")
            let assigned = GroupCoordinatorClient.decodeAssignment(synced.assignment)
            let generation = joined.generationId
            let heartbeat = startHeartbeat(connection: connection, generation: generation, memberId: memberId)
            member.withLockedValue { state in
                state.memberId = memberId
                state.generation = generation
                state.joined = true
                state.rejoin = false
                state.lastCommit = .now
                state.heartbeat = heartbeat
            }
            let owned = Set(consumer.assignment)
            let revoked = cooperative ? owned.subtracting(assigned).sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) } : []
            if !revoked.isEmpty {
                if group.enableAutoCommit {
                    do { try await commit() } catch { logger.warning("commit before revoking failed", metadata: ["error": "\(error)"]) }
                }
                if let callback = callbacks.withLockedValue({ $0.revoked }) { await callback(revoked) }
            }
            let added = assigned.filter { !owned.contains($0) }
            let committed = added.isEmpty ? [:] : try await coordinator.committed(added, via: connection)
            consumer.assign(assigned)  // partitions kept go on from their positions
            for partition in added {
                if let offset = committed[partition] { consumer.seek(partition, to: .offset(offset)) }
            }
            // Revoked partitions go to their new owners in a follow-up rebalance.
            if !revoked.isEmpty { member.withLockedValue { $0.rejoin = true } }
            logger.info("joined group", metadata: [
                "group": "\(group.groupId)", "generation": "\(generation)", "partitions": "\(assigned)", "revoked": "\(revoked)",
            ])
            if let callback = callbacks.withLockedValue({ $0.assigned }) { await callback(added) }
            return
        }
        throw KafkaClientError.broker(.rebalanceInProgress, message: "gave up rejoining", context: "JoinGroup \(group.groupId)")
    }

    /// The leader's job: every member's partitions by the protocol the group chose.
    private func assign(_ joined: JoinGroupResponse) async throws -> [SyncGroupRequest.SyncGroupRequestAssignment] {
        var subscriptions: [String: MemberSubscription] = [:]
        for member in joined.members { subscriptions[member.memberId] = GroupCoordinatorClient.decodeSubscription(member.metadata) }
        let topics = Array(Set(subscriptions.values.flatMap(\.topics)))
        let metadata = try await consumer.cluster.metadata(for: topics, force: true)
        var counts: [String: Int] = [:]
        for topic in topics { counts[topic] = metadata.topics[topic]?.partitionCount ?? 0 }
        let assignor = Assignor(rawValue: joined.protocolName ?? "") ?? .range
        let plan = assignor.assign(subscriptions, partitionCounts: counts)
        return plan.map { memberId, partitions in
            let byTopic = Dictionary(grouping: partitions, by: \.topic).map {
                ConsumerProtocolAssignment.TopicPartition(topic: $0.key, partitions: $0.value.map(\.partition))
            }
            let bytes = GroupCoordinatorClient.encode(ConsumerProtocolAssignment(assignedPartitions: byTopic, userData: nil), version: 0)
            return .init(memberId: memberId, assignment: bytes)
        }
    }

    /// Heartbeats every `heartbeatInterval` until cancelled; an error (a rebalance, a lost
    /// membership) asks the loop to rejoin.
    private func startHeartbeat(connection: BrokerConnection, generation: Int32, memberId: String) -> Task<Void, Never> {
        let group = self.group
        let member = self.member
        let timeout = consumer.config.client.requestTimeout
        return Task {
            while !Task.isCancelled {
                guard (try? await Task.sleep(for: group.heartbeatInterval)) != nil else { return }
                var request = HeartbeatRequest()
                request.groupId = group.groupId
                request.generationId = generation
                request.memberId = memberId
                request.groupInstanceId = group.groupInstanceId
                let code: Int16
                do {
                    let version = try connection.version(of: .heartbeat, supported: 0...4)
                    code = try await connection.send(request, version: version, timeout: timeout).errorCode
                } catch {
                    code = KafkaErrorCode.coordinatorNotAvailable.rawValue
                }
                if code != 0 {
                    member.withLockedValue { state in
                        state.rejoin = true
                        if code == KafkaErrorCode.unknownMemberId.rawValue { state.memberId = "" }
                    }
                    return
                }
            }
        }
    }
}
