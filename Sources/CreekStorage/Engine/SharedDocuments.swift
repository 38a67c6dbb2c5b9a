/// Small documents every broker of a cluster shares — the `meta/` files of SCRAM
/// credentials, ACLs and client quotas — each with a version that grows by one per save.
///
/// Invariant: `save` succeeds only over the version the caller last saw, so two brokers
/// changing one document at once never lose each other's change (the loser reloads and
/// applies its change again).
public protocol SharedDocuments: Sendable {
    /// The document's version and bytes; nil when no broker saved it yet.
    func load(_ name: String) async throws(StorageError) -> (version: Int64, bytes: [UInt8])?
    /// Saves `bytes` if the stored version is still `expected` (0: not saved yet); returns
    /// the new version, or nil when another broker saved meanwhile.
    func save(_ name: String, _ bytes: [UInt8], expected: Int64) async throws(StorageError) -> Int64?
    /// Every document's current version.
    func versions() async throws(StorageError) -> [String: Int64]
}
