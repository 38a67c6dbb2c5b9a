/// Every metric Creek exports: its Prometheus name (prefixed `creek_`), its type and its
/// help text. The one list `docs/operations.md` documents (a test checks that each name
/// appears there); a name is registered with this help text only, as Prometheus requires.
public struct MetricName: Sendable, Hashable {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public let name: String
    public let kind: Kind
    public let help: String
    /// The labels the series carry.
    public let labels: [String]

    init(_ name: String, _ kind: Kind, _ labels: [String] = [], _ help: String) {
        self.name = "creek_" + name
        self.kind = kind
        self.labels = labels
        self.help = help
    }

    /// Buckets for request and fsync latencies: 50 µs to 10 s.
    static let latencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
    ]

    // Request path (BrokerMetrics)
    static let requests = MetricName("requests_total", .counter, ["api", "version"], "Requests answered, by API and version.")
    static let requestDuration = MetricName("request_duration_seconds", .histogram, ["api"], "Time from a request's arrival to its response being queued, by API.")
    static let requestErrors = MetricName("request_errors_total", .counter, ["code"], "Non-zero error codes in responses (top-level and per partition), by Kafka error name.")
    static let topicRecordsIn = MetricName("topic_records_in_total", .counter, ["topic"], "Records appended by Produce.")
    static let topicBytesIn = MetricName("topic_bytes_in_total", .counter, ["topic"], "Record batch bytes appended by Produce.")
    static let topicRecordsOut = MetricName("topic_records_out_total", .counter, ["topic"], "Records returned by Fetch (consumers and tools).")
    static let topicBytesOut = MetricName("topic_bytes_out_total", .counter, ["topic"], "Record batch bytes returned by Fetch.")
    static let produceBatchBytes = MetricName("produce_batch_bytes", .histogram, [], "Sizes of the record batches Produce requests carry.")
    static let fsyncDuration = MetricName("fsync_duration_seconds", .histogram, [], "Duration of each fsync of a data file or directory; _count is the number of fsyncs.")
    static let fsyncFailures = MetricName("fsync_failures_total", .counter, [], "Failed fsyncs (each takes its partition offline).")
    static let connectionsActive = MetricName("connections_active", .gauge, [], "Open client connections.")
    static let connectionsAccepted = MetricName("connections_accepted_total", .counter, [], "Client connections accepted.")
    static let authenticationFailures = MetricName("sasl_authentication_failures_total", .counter, [], "SASL logins refused (wrong password, mechanism or order).")
    static let inFlightRequestBytes = MetricName("inflight_request_bytes", .gauge, [], "Bytes of requests received and not yet answered.")

    // State read at scrape time (MetricsScrape)
    static let partitionHighWatermark = MetricName("partition_high_watermark", .gauge, ["topic", "partition"], "The partition's high watermark (next offset).")
    static let partitionLogStartOffset = MetricName("partition_log_start_offset", .gauge, ["topic", "partition"], "The partition's first offset still kept.")
    static let partitionSizeBytes = MetricName("partition_size_bytes", .gauge, ["topic", "partition"], "Bytes of the partition's segment files.")
    static let partitionSegments = MetricName("partition_segments", .gauge, ["topic", "partition"], "Segment files of the partition.")
    static let partitionsOffline = MetricName("partitions_offline", .gauge, [], "Partitions taken offline by a storage failure.")
    static let groupMembers = MetricName("group_members", .gauge, ["group"], "Members of a consumer group.")
    static let groupState = MetricName("group_state", .gauge, ["group", "state"], "1 for the group's current state (Empty, PreparingRebalance, CompletingRebalance, Stable).")
    static let groupCommittedOffset = MetricName("group_committed_offset", .gauge, ["group", "topic", "partition"], "The group's committed offset for a partition.")
    static let groupLag = MetricName("group_lag", .gauge, ["group", "topic", "partition"], "High watermark minus the committed offset.")
    static let groupLagSum = MetricName("group_lag_sum", .gauge, ["group"], "The group's lag summed over its partitions.")
    static let transactionsOpen = MetricName("transactions_open", .gauge, [], "Transactions begun and not yet committed or aborted.")
    static let residentMemory = MetricName("process_resident_memory_bytes", .gauge, [], "Resident memory of the broker process.")
    static let cpuSeconds = MetricName("process_cpu_seconds_total", .gauge, [], "User and system CPU time the broker process has used.")
    static let openFiles = MetricName("process_open_fds", .gauge, [], "Open file descriptors of the broker process.")
    static let uptime = MetricName("uptime_seconds", .gauge, [], "Seconds since the broker started.")
    static let dataDirFree = MetricName("data_dir_free_bytes", .gauge, [], "Bytes an unprivileged writer may still use on the data directory's volume.")
    static let dataDirTotal = MetricName("data_dir_total_bytes", .gauge, [], "Size of the data directory's volume.")

    /// Every metric, for documentation checks.
    public static let all: [MetricName] = [
        requests, requestDuration, requestErrors, topicRecordsIn, topicBytesIn, topicRecordsOut, topicBytesOut, produceBatchBytes,
        fsyncDuration, fsyncFailures, connectionsActive, connectionsAccepted, authenticationFailures, inFlightRequestBytes,
        partitionHighWatermark, partitionLogStartOffset, partitionSizeBytes, partitionSegments, partitionsOffline,
        groupMembers, groupState, groupCommittedOffset, groupLag, groupLagSum, transactionsOpen,
        residentMemory, cpuSeconds, openFiles, uptime, dataDirFree, dataDirTotal,
    ]
}
