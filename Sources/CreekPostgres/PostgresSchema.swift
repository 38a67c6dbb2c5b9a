import Logging
import PostgresNIO

/// Creek's tables in PostgreSQL and the migrations that create them. `creek_schema` holds
/// the version applied; each migration runs once, in order, in one transaction, under an
/// advisory lock so brokers starting together do not race.
///
/// - `creek_cluster`: one row, the cluster id.
/// - `creek_topics`: the catalog (name, topic id as 32 hex digits, partition count, config
///   overrides as JSON).
/// - `creek_partitions`: per partition (keyed by topic id, so a re-created topic never meets
///   the old one's rows) the next offset to assign and the log start offset; its row lock
///   orders appends.
/// - `creek_batches`: whole record batches as sent (base offset patched), one row each.
/// - `creek_producers`: idempotent and transactional producer state per partition (JSON).
/// - `creek_aborted`: aborted transactions per partition, for read_committed fetches.
/// - `creek_producer_id_blocks` (version 2): a sequence handing out blocks of producer ids.
/// - `creek_brokers` (version 3): live brokers, their advertised listeners and lease expiry;
///   `creek_partitions.leader_id` and `leader_epoch`: who leads each partition, fenced by epoch;
///   `creek_offsets`: committed group offsets, shared so a group's new coordinator resumes it.
/// - `creek_transactions` (version 4): each transactional id's coordinator state (JSON) with a
///   version every save must match; `creek_txn_offsets`: offsets staged by TxnOffsetCommit at
///   the group's coordinator until the producer's transaction ends.
/// - `creek_partitions.cleaned_up_to` (version 5): the compaction checkpoint;
///   `creek_documents`: the `meta/` documents brokers share (credentials, ACLs, quotas).
/// - `creek_cluster.coordinator_epoch` (version 6): the last transaction coordinator epoch
///   handed out; each coordinator takes the next one when it loads the shared state.
enum PostgresSchema {
    static let migrations: [[PostgresQuery]] = [
        [
            """
            CREATE TABLE creek_cluster (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), cluster_id text NOT NULL)
            """,
            """
            CREATE TABLE creek_topics (name text PRIMARY KEY, topic_id text NOT NULL UNIQUE, partitions integer NOT NULL, configs text NOT NULL)
            """,
            """
            CREATE TABLE creek_partitions (
                topic_id text NOT NULL, partition integer NOT NULL, next_offset bigint NOT NULL, log_start_offset bigint NOT NULL,
                PRIMARY KEY (topic_id, partition))
            """,
            """
            CREATE TABLE creek_batches (
                topic_id text NOT NULL, partition integer NOT NULL, base_offset bigint NOT NULL, last_offset bigint NOT NULL,
                max_timestamp bigint NOT NULL, size integer NOT NULL, data bytea NOT NULL,
                PRIMARY KEY (topic_id, partition, base_offset))
            """,
            // Batches are stored as sent, uncompressed by PostgreSQL: producers compress their own
            // batches, and pglz on them only costs CPU (and makes figures depend on the payload).
            "ALTER TABLE creek_batches ALTER COLUMN data SET STORAGE EXTERNAL",
            """
            CREATE TABLE creek_producers (
                topic_id text NOT NULL, partition integer NOT NULL, producer_id bigint NOT NULL, entry text NOT NULL,
                PRIMARY KEY (topic_id, partition, producer_id))
            """,
            """
            CREATE TABLE creek_aborted (
                topic_id text NOT NULL, partition integer NOT NULL, producer_id bigint NOT NULL, first_offset bigint NOT NULL,
                last_offset bigint NOT NULL, last_stable_offset bigint NOT NULL,
                PRIMARY KEY (topic_id, partition, last_offset))
            """,
        ],
        [
            // Producer ids in blocks of 1,000 shared by every broker on the database.
            "CREATE SEQUENCE creek_producer_id_blocks START 1000 INCREMENT 1000 MINVALUE 1000",
        ],
        [
            // Cluster mode: brokers with leases, and each partition's leader and leader epoch.
            """
            CREATE TABLE creek_brokers (
                node_id integer PRIMARY KEY, instance text NOT NULL, listeners text NOT NULL,
                lease_until timestamptz NOT NULL, started_at timestamptz NOT NULL DEFAULT now())
            """,
            "ALTER TABLE creek_partitions ADD COLUMN leader_id integer, ADD COLUMN leader_epoch integer NOT NULL DEFAULT 0",
            // Bumped by every catalog change, polled by the other brokers.
            "ALTER TABLE creek_cluster ADD COLUMN catalog_version bigint NOT NULL DEFAULT 0",
            """
            CREATE TABLE creek_offsets (
                group_id text NOT NULL, topic text NOT NULL, partition integer NOT NULL, committed_offset bigint NOT NULL,
                leader_epoch integer NOT NULL, metadata bytea, commit_timestamp bigint NOT NULL,
                PRIMARY KEY (group_id, topic, partition))
            """,
        ],
        [
            // Transactions across brokers.
            """
            CREATE TABLE creek_transactions (transactional_id text PRIMARY KEY, version bigint NOT NULL, metadata text NOT NULL)
            """,
            """
            CREATE TABLE creek_txn_offsets (
                producer_id bigint NOT NULL, group_id text NOT NULL, topic text NOT NULL, partition integer NOT NULL,
                committed_offset bigint NOT NULL, leader_epoch integer NOT NULL, metadata bytea,
                PRIMARY KEY (producer_id, group_id, topic, partition))
            """,
        ],
        [
            // Compaction: where the last pass's key map ended (the next pass's dirty start).
            "ALTER TABLE creek_partitions ADD COLUMN cleaned_up_to bigint NOT NULL DEFAULT 0",
            // SCRAM credentials, ACLs and client quotas, shared by every broker.
            "CREATE TABLE creek_documents (name text PRIMARY KEY, version bigint NOT NULL, body bytea NOT NULL)",
        ],
        [
            // Transaction coordinator epochs: one taken at each load of the coordinator state.
            "ALTER TABLE creek_cluster ADD COLUMN coordinator_epoch integer NOT NULL DEFAULT 0",
        ],
    ]

    static var version: Int { migrations.count }

    /// Brings the database to `version`; returns the version it was at.
    @discardableResult
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            // Held until the transaction ends: one broker migrates, the others wait and see it done.
            try await connection.query("SELECT pg_advisory_xact_lock(7263827)", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS creek_schema (version integer NOT NULL)", logger: logger)
            var current = 0
            for try await version in try await connection.query("SELECT version FROM creek_schema", logger: logger).decode(Int.self) {
                current = version
            }
            if current == 0 { try await connection.query("INSERT INTO creek_schema VALUES (0)", logger: logger) }
            guard current <= version else {
                throw PostgresEngineError("the database's schema is version \(current), newer than this Creek's \(version)")
            }
            for step in migrations.dropFirst(current) {
                for statement in step { try await connection.query(statement, logger: logger) }
            }
            if current < version {
                try await connection.query("UPDATE creek_schema SET version = \(version)", logger: logger)
                logger.info("PostgreSQL schema migrated", metadata: ["from": "\(current)", "to": "\(version)"])
            }
            return current
        }
    }
}

/// A PostgreSQL engine failure with a readable reason.
struct PostgresEngineError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
