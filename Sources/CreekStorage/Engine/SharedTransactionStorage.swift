/// Transaction coordinator state kept where every broker of a cluster can read it, so the
/// broker that takes a transactional id over finishes or aborts its transaction, and the
/// offsets a transaction commits for a group wait where that group's coordinator finds them.
///
/// Invariant: `save` is conditional on the state this broker last loaded or saved for the
/// id — a coordinator acting on an older copy (the cluster views briefly disagreed) is
/// refused with `StorageError.notCoordinator` and must load again.
public protocol SharedTransactionStorage: Sendable {
    /// Every transactional id's state (this broker then holds the versions it saw).
    func loadAll() async throws(StorageError) -> [TransactionMetadata]
    func save(_ metadata: TransactionMetadata) async throws(StorageError)
    func remove(_ transactionalId: String) async throws(StorageError)
    /// A transaction coordinator epoch higher than every one handed out before, by any
    /// broker (a coordinator takes one each time it loads the state).
    func nextCoordinatorEpoch() async throws(StorageError) -> Int32

    /// TxnOffsetCommit at a group's coordinator: offsets held until the transaction ends.
    func stageOffsets(producerId: Int64, _ offsets: [TransactionMetadata.PendingOffset]) async throws(StorageError)
    /// The groups holding offsets staged by `producerId`.
    func stagedGroups(producerId: Int64) async throws(StorageError) -> Set<String>
    /// Partitions of `group` with offsets staged by a transaction still open.
    func stagedPartitions(group: String) async throws(StorageError) -> Set<TransactionMetadata.Partition>
    /// Ends the staged offsets of `producerId` in `groups`: on commit they become the groups'
    /// committed offsets (in the same database transaction), on abort they are dropped.
    /// Returns the offsets committed.
    func finishStaged(producerId: Int64, groups: Set<String>, commit: Bool, nowMs: Int64) async throws(StorageError) -> [TransactionMetadata.PendingOffset]
}
