public import KafkaProtocol
public import NIOCore

/// One member of a classic consumer group, as the coordinator knows it.
/// `joinToken`/`syncToken` name a JoinGroup/SyncGroup request the coordinator is holding
/// for this member until the rebalance reaches the point where it can be answered.
public struct GroupMember: Sendable, Hashable {
    public var memberId: String
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    public var protocolType: String
    /// The protocols the member supports, in its order of preference, with its metadata for each.
    public var protocols: [SupportedProtocol]
    /// What the leader assigned to this member in the current generation.
    public var assignment: ByteBuffer = ByteBuffer()
    /// The held JoinGroup request, while the member waits for the rebalance to complete.
    public var joinToken: Int?
    /// The held SyncGroup request, while the member waits for the leader's assignment.
    public var syncToken: Int?
    /// When the coordinator last heard from the member (ms); its session ends
    /// `sessionTimeoutMs` later.
    public var lastSeenMs: Int64

    public struct SupportedProtocol: Sendable, Hashable {
        public var name: String
        public var metadata: ByteBuffer

        public init(name: String, metadata: ByteBuffer) {
            self.name = name
            self.metadata = metadata
        }
    }

    public func metadata(for protocolName: String?) -> ByteBuffer {
        protocols.first { $0.name == protocolName }?.metadata ?? ByteBuffer()
    }

    var sessionDeadline: Int64 { lastSeenMs + Int64(sessionTimeoutMs) }
}

/// A JoinGroup request as the state machine sees it.
public struct JoinGroupInput: Sendable {
    public var token: Int
    public var memberId: String
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    public var protocolType: String
    public var protocols: [GroupMember.SupportedProtocol]
    /// v4+: a first join without a member id gets MEMBER_ID_REQUIRED (KIP-394).
    public var requireKnownMemberId: Bool

    public init(
        token: Int, memberId: String, groupInstanceId: String?, clientId: String, clientHost: String,
        sessionTimeoutMs: Int32, rebalanceTimeoutMs: Int32, protocolType: String,
        protocols: [GroupMember.SupportedProtocol], requireKnownMemberId: Bool
    ) {
        self.token = token
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.protocolType = protocolType
        self.protocols = protocols
        self.requireKnownMemberId = requireKnownMemberId
    }
}

/// What the coordinator answers a JoinGroup with.
public struct JoinGroupOutcome: Sendable, Hashable {
    public init(error: KafkaErrorCode, generationId: Int32 = -1, protocolType: String? = nil, protocolName: String? = nil,
                leader: String = "", memberId: String = "") {
        self.error = error
        self.generationId = generationId
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.leader = leader
        self.memberId = memberId
    }

    public var error: KafkaErrorCode
    public var generationId: Int32 = -1
    public var protocolType: String?
    public var protocolName: String?
    public var leader: String = ""
    public var memberId: String = ""
    /// Filled for the leader only: every member with its metadata for the chosen protocol.
    public var members: [JoinedMember] = []
    /// A static leader rejoining a stable group must not reassign (KIP-345).
    public var skipAssignment = false

    public struct JoinedMember: Sendable, Hashable {
        public var memberId: String
        public var groupInstanceId: String?
        public var metadata: ByteBuffer
    }
}

/// What the coordinator answers a SyncGroup with.
public struct SyncGroupOutcome: Sendable, Hashable {
    public init(error: KafkaErrorCode, protocolType: String? = nil, protocolName: String? = nil, assignment: ByteBuffer = ByteBuffer()) {
        self.error = error
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.assignment = assignment
    }

    public var error: KafkaErrorCode
    public var protocolType: String?
    public var protocolName: String?
    public var assignment: ByteBuffer = ByteBuffer()
}

/// An effect the group state machine asks the IO layer to carry out.
public enum GroupAction: Sendable, Hashable {
    /// Answer the held JoinGroup request `token`.
    case completeJoin(token: Int, JoinGroupOutcome)
    /// Answer the held SyncGroup request `token`.
    case completeSync(token: Int, SyncGroupOutcome)
}
