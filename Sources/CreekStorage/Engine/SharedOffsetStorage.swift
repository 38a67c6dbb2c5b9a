/// Committed group offsets kept where every broker of a cluster can read them, so the
/// broker that takes a group over resumes it from its last commit. `OffsetStore` writes
/// through to it before a commit is acknowledged and loads a group from it when this broker
/// starts coordinating the group.
public protocol SharedOffsetStorage: Sendable {
    func load(group: String) async throws(StorageError) -> [String: [Int32: CommittedOffset]]
    func apply(_ changes: [OffsetChange]) async throws(StorageError)
}

/// One change to committed offsets, as `OffsetStore` journals it.
public enum OffsetChange: Sendable {
    case commit(group: String, topic: String, partition: Int32, value: CommittedOffset)
    case delete(group: String, topic: String, partition: Int32)
    case deleteGroup(String)
}
