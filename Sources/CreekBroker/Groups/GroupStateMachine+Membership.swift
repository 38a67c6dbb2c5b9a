public import KafkaProtocol
public import NIOCore

/// Sync, heartbeat, leave, timers and admin of `GroupStateMachine` (join is in its own file).
extension GroupStateMachine {
    // MARK: - Sync

    public mutating func sync(
        token: Int, memberId: String, groupInstanceId: String?, generationId requested: Int32,
        protocolType: String?, protocolName: String?, assignments: [String: ByteBuffer], nowMs: Int64
    ) -> [GroupAction] {
        func reply(_ error: KafkaErrorCode) -> [GroupAction] {
            [.completeSync(token: token, SyncGroupOutcome(error: error))]
        }
        guard let position = index(of: memberId) else { return reply(.unknownMemberId) }
        if let instance = groupInstanceId, members[position].groupInstanceId != instance { return reply(.fencedInstanceId) }
        guard requested == generationId else { return reply(.illegalGeneration) }
        if let protocolType, protocolType != self.protocolType { return reply(.inconsistentGroupProtocol) }
        if let protocolName, protocolName != self.protocolName { return reply(.inconsistentGroupProtocol) }
        members[position].lastSeenMs = nowMs
        switch phase {
        case .completingRebalance:
            var actions: [GroupAction] = []
            if let previous = members[position].syncToken {
                actions.append(.completeSync(token: previous, SyncGroupOutcome(error: .rebalanceInProgress)))
            }
            members[position].syncToken = token
            guard memberId == leaderId else { return actions }
            for index in members.indices {
                members[index].assignment = assignments[members[index].memberId] ?? ByteBuffer()
            }
            phase = .stable
            for index in members.indices {
                if let held = members[index].syncToken {
                    actions.append(.completeSync(token: held, syncOutcome(index)))
                    members[index].syncToken = nil
                }
            }
            return actions
        case .stable:
            return [.completeSync(token: token, syncOutcome(position))]
        case .preparingRebalance:
            return reply(.rebalanceInProgress)
        case .empty, .dead:
            return reply(.unknownMemberId)
        }
    }

    func syncOutcome(_ position: Int) -> SyncGroupOutcome {
        SyncGroupOutcome(error: .none, protocolType: protocolType, protocolName: protocolName, assignment: members[position].assignment)
    }

    // MARK: - Heartbeat and leave

    public mutating func heartbeat(memberId: String, groupInstanceId: String?, generationId requested: Int32, nowMs: Int64) -> KafkaErrorCode {
        guard let position = index(of: memberId) else { return .unknownMemberId }
        if let instance = groupInstanceId, members[position].groupInstanceId != instance { return .fencedInstanceId }
        guard requested == generationId else { return .illegalGeneration }
        members[position].lastSeenMs = nowMs
        switch phase {
        case .stable, .completingRebalance: return .none
        case .preparingRebalance: return .rebalanceInProgress
        case .empty, .dead: return .unknownMemberId
        }
    }

    /// Removes members (LeaveGroup); returns each one's error and the actions.
    public mutating func leave(
        _ leaving: [(memberId: String, groupInstanceId: String?)], nowMs: Int64
    ) -> (errors: [KafkaErrorCode], actions: [GroupAction]) {
        var errors: [KafkaErrorCode] = []
        var removed: [GroupMember] = []
        for (memberId, instance) in leaving {
            if pendingMembers.removeValue(forKey: memberId) != nil {
                errors.append(.none)
                continue
            }
            let position: Int?
            if let instance {
                position = index(ofInstance: instance)
                if let position, !memberId.isEmpty, members[position].memberId != memberId {
                    errors.append(.fencedInstanceId)
                    continue
                }
            } else {
                position = index(of: memberId)
            }
            guard let position else {
                errors.append(.unknownMemberId)
                continue
            }
            removed.append(members.remove(at: position))
            errors.append(.none)
        }
        return (errors, membersRemoved(removed, nowMs: nowMs))
    }

    /// After members went away: their held requests are answered and the rest rebalance.
    mutating func membersRemoved(_ removed: [GroupMember], nowMs: Int64) -> [GroupAction] {
        guard !removed.isEmpty else { return [] }
        var actions: [GroupAction] = []
        for member in removed {
            if let token = member.joinToken {
                actions.append(.completeJoin(token: token, JoinGroupOutcome(error: .unknownMemberId, memberId: member.memberId)))
            }
            if let token = member.syncToken {
                actions.append(.completeSync(token: token, SyncGroupOutcome(error: .unknownMemberId)))
            }
        }
        if leaderId.map({ id in removed.contains { $0.memberId == id } }) == true { leaderId = nil }
        if members.isEmpty && pendingMembers.isEmpty {
            if phase != .empty {
                generationId += 1
                becomeEmpty(nowMs: nowMs)
            }
            return actions
        }
        actions += prepareRebalance(nowMs: nowMs)
        actions += completeJoinIfReady(nowMs: nowMs)
        return actions
    }

    // MARK: - Time

    /// When `tick` must next run: a session, a pending member id, the rebalance deadline
    /// or the initial delay running out.
    public var nextDeadlineMs: Int64? {
        var deadlines: [Int64] = members.filter { $0.joinToken == nil }.map(\.sessionDeadline)
        deadlines += pendingMembers.values
        if phase == .preparingRebalance {
            if let deadline = rebalanceDeadlineMs { deadlines.append(deadline) }
            if let delay = initialDelayUntilMs { deadlines.append(delay) }
        }
        return deadlines.min()
    }

    /// Expires sessions and pending member ids, and finishes a rebalance whose wait is over.
    public mutating func tick(nowMs: Int64) -> [GroupAction] {
        pendingMembers = pendingMembers.filter { $0.value > nowMs }
        // Members parked in a JoinGroup are alive; everyone else must have been heard from.
        let expired = members.filter { $0.joinToken == nil && $0.sessionDeadline <= nowMs }
        members.removeAll { member in expired.contains { $0.memberId == member.memberId } }
        var actions = membersRemoved(expired, nowMs: nowMs)
        actions += completeJoinIfReady(nowMs: nowMs)
        return actions
    }

    // MARK: - Offsets and admin

    /// Kafka's rules for OffsetCommit: a client outside the group may commit with
    /// generation -1 only while the group is empty; members must name the current
    /// generation and may not commit while the group waits for the leader's assignment.
    public mutating func validateCommit(memberId: String, groupInstanceId: String?, generationId requested: Int32, nowMs: Int64) -> KafkaErrorCode {
        if phase == .dead { return .coordinatorNotAvailable }
        if requested < 0 && phase == .empty { return .none }
        if phase == .completingRebalance, index(of: memberId) != nil { return .rebalanceInProgress }
        guard let position = index(of: memberId) else { return .unknownMemberId }
        if let instance = groupInstanceId, members[position].groupInstanceId != instance { return .fencedInstanceId }
        guard requested == generationId else { return .illegalGeneration }
        members[position].lastSeenMs = nowMs
        return .none
    }

    /// Marks the group deleted (DeleteGroups); only an empty group may be deleted.
    public mutating func markDead() -> Bool {
        guard phase == .empty else { return false }
        phase = .dead
        return true
    }
}
