/// Settings of a consumer that is a member of a group (the Java client's, in camel case).
public struct GroupConfig: Sendable {
    public var groupId: String
    /// Static membership (KIP-345): a restart within the session timeout keeps the assignment.
    public var groupInstanceId: String?
    public var sessionTimeout: Duration = .seconds(45)
    public var rebalanceTimeout: Duration = .seconds(300)
    public var heartbeatInterval: Duration = .seconds(3)
    /// Assignors offered, in preference order (the group uses the first all members offer).
    public var assignors: [Assignor] = [.range, .roundRobin]
    /// Commit the positions of records already returned, every `autoCommitInterval` and
    /// before partitions are revoked or the consumer closes.
    public var enableAutoCommit = true
    public var autoCommitInterval: Duration = .seconds(5)

    public init(groupId: String) {
        self.groupId = groupId
    }
}
