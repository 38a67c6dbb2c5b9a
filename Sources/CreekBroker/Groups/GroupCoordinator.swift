public import CreekStorage
public import KafkaProtocol
public import Logging
public import NIOCore

/// The IO side of consumer groups: owns every group's `GroupStateMachine`, holds the
/// JoinGroup/SyncGroup requests the machines park (as continuations keyed by token),
/// runs one timer per group at the machine's next deadline, and keeps committed offsets
/// in the `OffsetStore`. One actor, so each group's events are applied one at a time.
public actor GroupCoordinator {
    private var groups: [String: GroupStateMachine] = [:]
    private var joinWaiters: [Int: (group: String, continuation: CheckedContinuation<JoinGroupOutcome, Never>)] = [:]
    private var syncWaiters: [Int: (group: String, continuation: CheckedContinuation<SyncGroupOutcome, Never>)] = [:]
    private var timers: [String: Task<Void, Never>] = [:]
    private var nextToken = 0
    private let settings: GroupStateMachine.Settings
    private let clock: @Sendable () -> Int64
    public nonisolated let offsets: OffsetStore
    private let logger: Logger

    public init(settings: GroupStateMachine.Settings, offsets: OffsetStore, logger: Logger, clock: @escaping @Sendable () -> Int64) {
        self.settings = settings
        self.offsets = offsets
        self.logger = logger
        self.clock = clock
    }

    // MARK: - Membership

    public func join(groupId: String, _ build: @Sendable (Int) -> JoinGroupInput) async -> JoinGroupOutcome {
        nextToken += 1
        let input = build(nextToken)
        return await withCheckedContinuation { continuation in
            joinWaiters[input.token] = (groupId, continuation)
            let now = clock()
            var group = groups[groupId] ?? GroupStateMachine(groupId: groupId, settings: settings, nowMs: now)
            if group.phase == .dead { group = GroupStateMachine(groupId: groupId, settings: settings, nowMs: now) }
            let actions = group.join(input, nowMs: now)
            groups[groupId] = group
            carryOut(actions, group: groupId)
        }
    }

    public func sync(
        groupId: String, memberId: String, groupInstanceId: String?, generationId: Int32,
        protocolType: String?, protocolName: String?, assignments: [String: ByteBuffer]
    ) async -> SyncGroupOutcome {
        guard var group = groups[groupId] else { return SyncGroupOutcome(error: .unknownMemberId) }
        nextToken += 1
        let token = nextToken
        return await withCheckedContinuation { continuation in
            syncWaiters[token] = (groupId, continuation)
            let actions = group.sync(
                token: token, memberId: memberId, groupInstanceId: groupInstanceId, generationId: generationId,
                protocolType: protocolType, protocolName: protocolName, assignments: assignments, nowMs: clock()
            )
            groups[groupId] = group
            carryOut(actions, group: groupId)
        }
    }

    public func heartbeat(groupId: String, memberId: String, groupInstanceId: String?, generationId: Int32) -> KafkaErrorCode {
        guard var group = groups[groupId] else { return .unknownMemberId }
        let result = group.heartbeat(memberId: memberId, groupInstanceId: groupInstanceId, generationId: generationId, nowMs: clock())
        groups[groupId] = group
        schedule(groupId)
        return result
    }

    public func leave(groupId: String, members: [(memberId: String, groupInstanceId: String?)]) -> [KafkaErrorCode]? {
        guard var group = groups[groupId] else { return nil }
        let (errors, actions) = group.leave(members, nowMs: clock())
        groups[groupId] = group
        carryOut(actions, group: groupId)
        return errors
    }

    private func carryOut(_ actions: [GroupAction], group: String) {
        for action in actions {
            switch action {
            case .completeJoin(let token, let outcome):
                joinWaiters.removeValue(forKey: token)?.continuation.resume(returning: outcome)
            case .completeSync(let token, let outcome):
                syncWaiters.removeValue(forKey: token)?.continuation.resume(returning: outcome)
            }
        }
        dropIfUnused(group)
        if let state = groups[group] {
            logger.debug("group state", metadata: ["group": "\(group)", "phase": "\(state.phase.rawValue)", "generation": "\(state.generationId)", "members": "\(state.members.count)"])
        }
        schedule(group)
    }

    private func schedule(_ group: String) {
        timers.removeValue(forKey: group)?.cancel()
        guard let deadline = groups[group]?.nextDeadlineMs else { return }
        let delay = max(0, deadline - clock())
        timers[group] = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(delay))
            guard !Task.isCancelled else { return }
            await self?.tick(group)
        }
    }

    /// Forgets a group with no members and no committed offsets, so group ids a client
    /// invents (or a rejected JoinGroup) leave nothing behind in memory.
    private func dropIfUnused(_ groupId: String) {
        guard let group = groups[groupId], group.members.isEmpty, group.pendingMembers.isEmpty,
              group.phase == .empty || group.phase == .dead,
              offsets.offsets(group: groupId).isEmpty
        else { return }
        groups[groupId] = nil
        timers.removeValue(forKey: groupId)?.cancel()
    }

    private func tick(_ groupId: String) {
        guard var group = groups[groupId] else { return }
        let before = group.members.count
        let actions = group.tick(nowMs: clock())
        groups[groupId] = group
        if group.members.count < before {
            logger.info("group members expired", metadata: ["group": "\(groupId)", "removed": "\(before - group.members.count)"])
        }
        timers[groupId] = nil
        carryOut(actions, group: groupId)
    }

    /// Answers every held request at shutdown.
    public func shutdown() {
        for task in timers.values { task.cancel() }
        timers.removeAll()
        for waiter in joinWaiters.values { waiter.continuation.resume(returning: JoinGroupOutcome(error: .coordinatorNotAvailable)) }
        for waiter in syncWaiters.values { waiter.continuation.resume(returning: SyncGroupOutcome(error: .coordinatorNotAvailable)) }
        joinWaiters.removeAll()
        syncWaiters.removeAll()
    }

    /// Drops the membership of every group `moved` names (in a cluster: groups another
    /// broker coordinates now, or may have coordinated meanwhile): held JoinGroup and
    /// SyncGroup requests are answered NOT_COORDINATOR, so their members find the current
    /// coordinator; a group that comes back starts empty, its offsets reloaded.
    public func resign(where moved: @Sendable (String) -> Bool) {
        let leaving = groups.keys.filter(moved)
        guard !leaving.isEmpty else { return }
        for group in leaving {
            groups[group] = nil
            timers.removeValue(forKey: group)?.cancel()
        }
        let names = Set(leaving)
        for (token, waiter) in joinWaiters where names.contains(waiter.group) {
            joinWaiters[token] = nil
            waiter.continuation.resume(returning: JoinGroupOutcome(error: .notCoordinator))
        }
        for (token, waiter) in syncWaiters where names.contains(waiter.group) {
            syncWaiters[token] = nil
            waiter.continuation.resume(returning: SyncGroupOutcome(error: .notCoordinator))
        }
        logger.info("groups moved to another coordinator", metadata: ["groups": "\(leaving.sorted())"])
    }

    // MARK: - Offsets and admin

    public func validateCommit(groupId: String, memberId: String, groupInstanceId: String?, generationId: Int32) -> KafkaErrorCode {
        guard var group = groups[groupId] else {
            // A group that exists only through its offsets (or not at all) is empty.
            return generationId < 0 ? .none : .illegalGeneration
        }
        let result = group.validateCommit(memberId: memberId, groupInstanceId: groupInstanceId, generationId: generationId, nowMs: clock())
        groups[groupId] = group
        return result
    }

    /// A snapshot of one group for DescribeGroups and ListGroups.
    public struct Description: Sendable {
        public var groupId: String
        public var phase: GroupStateMachine.Phase
        public var protocolType: String
        public var protocolName: String
        public var members: [GroupMember]
        public var generationId: Int32 = 0
        public var leaderId: String?
    }

    public func describe(_ groupId: String) -> Description? {
        if let group = groups[groupId], group.phase != .dead {
            return Description(
                groupId: groupId, phase: group.phase, protocolType: group.protocolType ?? group.members.first?.protocolType ?? "",
                protocolName: group.protocolName ?? "", members: group.members, generationId: group.generationId, leaderId: group.leaderId
            )
        }
        if !offsets.offsets(group: groupId).isEmpty {
            return Description(groupId: groupId, phase: .empty, protocolType: "consumer", protocolName: "", members: [])
        }
        return nil
    }

    public func allGroups() -> [Description] {
        let names = Set(groups.filter { $0.value.phase != .dead }.keys).union(offsets.groupIds)
        return names.sorted().compactMap { describe($0) }
    }

    public enum DeleteResult: Sendable { case deleted, notFound, notEmpty }

    public func delete(_ groupId: String) throws -> DeleteResult {
        let known = groups[groupId].map { $0.phase != .dead } ?? false
        let hasOffsets = !offsets.offsets(group: groupId).isEmpty
        guard known || hasOffsets else { return .notFound }
        if var group = groups[groupId] {
            guard group.markDead() else { return .notEmpty }
            groups[groupId] = nil
            timers.removeValue(forKey: groupId)?.cancel()
        }
        try offsets.delete(group: groupId, partitions: nil)
        return .deleted
    }

    /// Topics the group's consumer members subscribe to (from their subscription metadata).
    public func subscribedTopics(_ groupId: String) -> Set<String>? {
        guard let group = groups[groupId], group.phase != .empty, group.phase != .dead else { return nil }
        guard group.protocolType == "consumer" else { return [] }
        var topics: Set<String> = []
        for member in group.members {
            var metadata = member.metadata(for: group.protocolName)
            guard let version = metadata.getInteger(at: metadata.readerIndex, endianness: .big, as: Int16.self) else { continue }
            metadata.moveReaderIndex(forwardBy: 2)
            if let subscription = try? ConsumerProtocolSubscription(from: &metadata, version: min(version, ConsumerProtocolSubscription.validVersions.upperBound)) {
                topics.formUnion(subscription.topics)
            }
        }
        return topics
    }

    /// Offsets of groups that have been empty for longer than `retentionMs` expire.
    public func expireOffsets(retentionMs: Int64) throws -> Int {
        let now = clock()
        let eligible = offsets.groupIds.filter { name in
            guard let group = groups[name] else { return true }
            return group.phase == .empty && now - group.emptySinceMs > retentionMs
        }
        return try offsets.expire(groups: eligible, committedBefore: now - retentionMs)
    }
}
