import KafkaProtocol
import NIOCore

/// The classic group membership protocol for one group, as a pure value: events in
/// (join, sync, heartbeat, leave, commit check, the clock ticking), `GroupAction`s out.
/// No IO and no clock of its own: every event carries `nowMs`, and `nextDeadlineMs` says
/// when the IO layer must call `tick` next.
///
/// Phases: Empty -> PreparingRebalance -> CompletingRebalance -> Stable, and back to
/// PreparingRebalance whenever membership changes. Invariants: `generationId` never
/// decreases; in CompletingRebalance and Stable every member joined the current
/// generation; only the leader's SyncGroup sets assignments, and each member receives
/// only its own.
public struct GroupStateMachine: Sendable {
    public enum Phase: String, Sendable {
        case empty = "Empty"
        case preparingRebalance = "PreparingRebalance"
        case completingRebalance = "CompletingRebalance"
        case stable = "Stable"
        case dead = "Dead"
    }

    /// Limits from the broker configuration.
    public struct Settings: Sendable {
        public var initialRebalanceDelayMs: Int64 = 3000
        public var minSessionTimeoutMs: Int32 = 6000
        public var maxSessionTimeoutMs: Int32 = 1_800_000
        public var maxSize = Int.max

        public init() {}
    }

    public let groupId: String
    public let settings: Settings
    public internal(set) var phase: Phase = .empty
    public internal(set) var generationId: Int32 = 0
    public internal(set) var protocolType: String?
    public internal(set) var protocolName: String?
    public internal(set) var leaderId: String?
    /// Members in join order.
    public internal(set) var members: [GroupMember] = []
    /// Member ids handed out with MEMBER_ID_REQUIRED, with when they expire.
    public internal(set) var pendingMembers: [String: Int64] = [:]
    /// When the current rebalance stops waiting for members that have not rejoined.
    public internal(set) var rebalanceDeadlineMs: Int64?
    /// A new group waits this long for more members before the first generation.
    public internal(set) var initialDelayUntilMs: Int64?
    /// When the group last became empty (offset expiry counts from here).
    public internal(set) var emptySinceMs: Int64

    private var memberIdCounter: UInt64 = 0

    public init(groupId: String, settings: Settings, nowMs: Int64) {
        self.groupId = groupId
        self.settings = settings
        self.emptySinceMs = nowMs
    }

    public func member(_ id: String) -> GroupMember? { members.first { $0.memberId == id } }
    func index(of id: String) -> Int? { members.firstIndex { $0.memberId == id } }
    func index(ofInstance instance: String) -> Int? { members.firstIndex { $0.groupInstanceId == instance } }

    // MARK: - Join

    public mutating func join(_ input: JoinGroupInput, nowMs: Int64) -> [GroupAction] {
        func reply(_ error: KafkaErrorCode, memberId: String = input.memberId) -> [GroupAction] {
            [.completeJoin(token: input.token, JoinGroupOutcome(error: error, memberId: memberId))]
        }
        if phase == .dead { return reply(.coordinatorNotAvailable) }
        guard !input.protocolType.isEmpty, !input.protocols.isEmpty else { return reply(.inconsistentGroupProtocol) }
        let allowed = settings.minSessionTimeoutMs...settings.maxSessionTimeoutMs
        guard allowed.contains(input.sessionTimeoutMs), allowed.contains(input.rebalanceTimeoutMs) else {
            return reply(.invalidSessionTimeout)
        }
        if phase != .empty && !isCompatible(input) { return reply(.inconsistentGroupProtocol) }

        var memberId = input.memberId
        if memberId.isEmpty {
            if let instance = input.groupInstanceId, let existing = index(ofInstance: instance) {
                return rejoinStatic(input, at: existing, nowMs: nowMs)
            }
            guard members.count + pendingMembers.count < settings.maxSize else { return reply(.groupMaxSizeReached) }
            memberId = newMemberId(clientId: input.clientId)
            if input.requireKnownMemberId && input.groupInstanceId == nil {
                pendingMembers[memberId] = nowMs + Int64(input.sessionTimeoutMs)
                return reply(.memberIdRequired, memberId: memberId)
            }
            return addMember(input, memberId: memberId, nowMs: nowMs)
        }
        if pendingMembers.removeValue(forKey: memberId) != nil {
            return addMember(input, memberId: memberId, nowMs: nowMs)
        }
        guard let position = index(of: memberId) else { return reply(.unknownMemberId) }
        if let instance = input.groupInstanceId, members[position].groupInstanceId != instance {
            return reply(.fencedInstanceId)
        }
        return rejoin(input, at: position, nowMs: nowMs)
    }

    func isCompatible(_ input: JoinGroupInput) -> Bool {
        guard input.protocolType == protocolType ?? members.first?.protocolType else { return false }
        let offered = Set(input.protocols.map(\.name))
        if phase == .stable || phase == .completingRebalance, let chosen = protocolName {
            return offered.contains(chosen)
        }
        let common = members.reduce(offered) { $0.intersection($1.protocols.map(\.name)) }
        return !common.isEmpty || members.isEmpty
    }

    mutating func newMemberId(clientId: String) -> String {
        memberIdCounter += 1
        let prefix = clientId.isEmpty ? "member" : clientId
        return "\(prefix)-\(groupId.hashValue & 0xFFFF)-\(memberIdCounter)-\(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF)"
    }

    mutating func addMember(_ input: JoinGroupInput, memberId: String, nowMs: Int64) -> [GroupAction] {
        let member = GroupMember(
            memberId: memberId, groupInstanceId: input.groupInstanceId, clientId: input.clientId,
            clientHost: input.clientHost, sessionTimeoutMs: input.sessionTimeoutMs,
            rebalanceTimeoutMs: input.rebalanceTimeoutMs, protocolType: input.protocolType,
            protocols: input.protocols, joinToken: input.token, lastSeenMs: nowMs
        )
        members.append(member)
        var actions = prepareRebalance(nowMs: nowMs)
        if let delay = initialDelayUntilMs, phase == .preparingRebalance {
            // Each member joining a new group extends the wait (up to the rebalance deadline).
            initialDelayUntilMs = min(max(delay, nowMs + settings.initialRebalanceDelayMs), rebalanceDeadlineMs ?? delay)
        }
        actions += completeJoinIfReady(nowMs: nowMs)
        return actions
    }

    /// A known member rejoins: in Stable or CompletingRebalance with nothing changed it gets
    /// the current generation back (the leader rejoining forces a rebalance, as in Kafka);
    /// otherwise the group rebalances.
    mutating func rejoin(_ input: JoinGroupInput, at position: Int, nowMs: Int64) -> [GroupAction] {
        let unchanged = members[position].protocols == input.protocols
        members[position].protocols = input.protocols
        members[position].sessionTimeoutMs = input.sessionTimeoutMs
        members[position].rebalanceTimeoutMs = input.rebalanceTimeoutMs
        members[position].lastSeenMs = nowMs
        var actions: [GroupAction] = []
        if let previous = members[position].joinToken {
            actions.append(.completeJoin(token: previous, JoinGroupOutcome(error: .unknownMemberId, memberId: input.memberId)))
        }
        members[position].joinToken = input.token
        switch phase {
        case .stable where unchanged && members[position].memberId != leaderId,
             .completingRebalance where unchanged:
            members[position].joinToken = nil
            return actions + [.completeJoin(token: input.token, joinOutcome(for: members[position].memberId))]
        default:
            actions += prepareRebalance(nowMs: nowMs)
            actions += completeJoinIfReady(nowMs: nowMs)
            return actions
        }
    }

    /// A static member restarts with a new member id: it takes over its old slot. In a
    /// stable group with unchanged protocols there is no rebalance (KIP-345).
    mutating func rejoinStatic(_ input: JoinGroupInput, at position: Int, nowMs: Int64) -> [GroupAction] {
        var actions: [GroupAction] = []
        let oldId = members[position].memberId
        if let held = members[position].joinToken {
            actions.append(.completeJoin(token: held, JoinGroupOutcome(error: .fencedInstanceId, memberId: oldId)))
        }
        if let held = members[position].syncToken {
            actions.append(.completeSync(token: held, SyncGroupOutcome(error: .fencedInstanceId)))
        }
        let newId = newMemberId(clientId: input.clientId)
        let unchanged = members[position].protocols == input.protocols
        members[position].memberId = newId
        members[position].clientId = input.clientId
        members[position].clientHost = input.clientHost
        members[position].sessionTimeoutMs = input.sessionTimeoutMs
        members[position].rebalanceTimeoutMs = input.rebalanceTimeoutMs
        members[position].protocols = input.protocols
        members[position].lastSeenMs = nowMs
        members[position].joinToken = nil
        members[position].syncToken = nil
        if leaderId == oldId { leaderId = newId }
        if phase == .stable && unchanged {
            var outcome = joinOutcome(for: newId)
            outcome.skipAssignment = newId == leaderId
            return actions + [.completeJoin(token: input.token, outcome)]
        }
        members[position].joinToken = input.token
        actions += prepareRebalance(nowMs: nowMs)
        actions += completeJoinIfReady(nowMs: nowMs)
        return actions
    }

    /// Moves to PreparingRebalance (if not there already); held syncs are told to rejoin.
    mutating func prepareRebalance(nowMs: Int64) -> [GroupAction] {
        guard phase != .preparingRebalance else { return [] }
        var actions: [GroupAction] = []
        for position in members.indices {
            if let token = members[position].syncToken {
                actions.append(.completeSync(token: token, SyncGroupOutcome(error: .rebalanceInProgress)))
                members[position].syncToken = nil
            }
        }
        let wasEmpty = phase == .empty
        phase = .preparingRebalance
        let longest = members.map { Int64($0.rebalanceTimeoutMs) }.max() ?? 0
        rebalanceDeadlineMs = nowMs + longest
        if wasEmpty && settings.initialRebalanceDelayMs > 0 {
            initialDelayUntilMs = min(nowMs + settings.initialRebalanceDelayMs, nowMs + longest)
        }
        return actions
    }

    /// Finishes the join phase when every member has rejoined (and a new group's initial
    /// delay is over), or when the rebalance deadline passed: members that did not rejoin
    /// are dropped, the generation advances, a protocol and a leader are chosen, and every
    /// held JoinGroup is answered (the leader with all members' metadata).
    mutating func completeJoinIfReady(nowMs: Int64) -> [GroupAction] {
        guard phase == .preparingRebalance else { return [] }
        let deadlinePassed = nowMs >= (rebalanceDeadlineMs ?? nowMs)
        let allJoined = members.allSatisfy { $0.joinToken != nil } && pendingMembers.isEmpty
        let delayOver = nowMs >= (initialDelayUntilMs ?? nowMs)
        guard (allJoined && delayOver) || deadlinePassed else { return [] }
        members.removeAll { $0.joinToken == nil }
        initialDelayUntilMs = nil
        rebalanceDeadlineMs = nil
        generationId += 1
        if members.isEmpty {
            becomeEmpty(nowMs: nowMs)
            return []
        }
        protocolType = members.first?.protocolType
        protocolName = chooseProtocol()
        if leaderId == nil || member(leaderId ?? "") == nil {
            leaderId = members.first?.memberId
        }
        phase = .completingRebalance
        var actions: [GroupAction] = []
        for position in members.indices {
            members[position].assignment = ByteBuffer()
            members[position].lastSeenMs = nowMs
            if let token = members[position].joinToken {
                actions.append(.completeJoin(token: token, joinOutcome(for: members[position].memberId)))
                members[position].joinToken = nil
            }
        }
        return actions
    }

    /// Each member votes for its most preferred protocol that every member supports; the
    /// most votes wins (ties: the first member's preference order).
    func chooseProtocol() -> String? {
        guard let first = members.first else { return nil }
        let common = members.dropFirst().reduce(Set(first.protocols.map(\.name))) { $0.intersection($1.protocols.map(\.name)) }
        var votes: [String: Int] = [:]
        for member in members {
            if let choice = member.protocols.first(where: { common.contains($0.name) }) { votes[choice.name, default: 0] += 1 }
        }
        let best = votes.values.max() ?? 0
        return first.protocols.first { votes[$0.name] == best }?.name
    }

    func joinOutcome(for memberId: String) -> JoinGroupOutcome {
        var outcome = JoinGroupOutcome(
            error: .none, generationId: generationId, protocolType: protocolType, protocolName: protocolName,
            leader: leaderId ?? "", memberId: memberId
        )
        if memberId == leaderId {
            outcome.members = members.map {
                .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: protocolName))
            }
        }
        return outcome
    }

    mutating func becomeEmpty(nowMs: Int64) {
        phase = .empty
        leaderId = nil
        protocolName = nil
        protocolType = nil
        emptySinceMs = nowMs
        rebalanceDeadlineMs = nil
        initialDelayUntilMs = nil
    }
}
