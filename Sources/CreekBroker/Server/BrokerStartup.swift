public import CreekStorage
public import Logging

extension Broker {
    /// Opens a data directory and builds the broker on it: consumes the clean-shutdown
    /// marker (its absence means the last stop was a crash, so every partition's newest
    /// segment is validated), opens the topics, the committed offsets and the producer-id
    /// allocator and the transaction coordinator's state. The one place the command line, tests and an embedding program start from.
    public static func open(
        config: BrokerConfig, files plainFiles: any FileOperations = PosixFileOperations(), logger: Logger,
        metrics: BrokerMetrics = BrokerMetrics(enabled: false), clock: @escaping @Sendable () -> Int64
    ) throws(StorageError) -> Broker {
        let files = measured(plainFiles, metrics)
        let (clean, dynamic) = try prepare(config: config, files: files, logger: logger)
        let topics = try TopicRegistry(config: dynamic.config, recover: !clean, files: files, clock: clock)
        return try assemble(
            config: config, dynamic: dynamic, topics: topics, producerIds: ProducerIdAllocator(dataDirectory: config.dataDirectory, files: files),
            files: files, logger: logger, metrics: metrics, clock: clock
        )
    }

    /// `open` with topics in `engine` (PostgreSQL); the broker's other metadata (offsets,
    /// producer ids, transactions, credentials, ACLs, quotas) stays in the data directory.
    public static func open(
        config: BrokerConfig, engine: any StorageEngine, files plainFiles: any FileOperations = PosixFileOperations(), logger: Logger,
        metrics: BrokerMetrics = BrokerMetrics(enabled: false), clock: @escaping @Sendable () -> Int64
    ) async throws(StorageError) -> Broker {
        let files = measured(plainFiles, metrics)
        let (_, dynamic) = try prepare(config: config, files: files, logger: logger)
        let topics = try await TopicRegistry.open(config: dynamic.config, engine: engine, files: files, clock: clock)
        logger.info("topics stored by the \(engine.name) engine", metadata: ["topics": "\(topics.allTopics().count)"])
        return try assemble(
            config: config, dynamic: dynamic, topics: topics, producerIds: engine.producerIds(dataDirectory: config.dataDirectory, files: files),
            files: files, logger: logger, metrics: metrics, clock: clock
        )
    }

    private static func measured(_ files: any FileOperations, _ metrics: BrokerMetrics) -> any FileOperations {
        metrics.enabled ? MeasuredFileOperations(base: files, metrics: metrics) : files
    }

    /// Creates the data directory, consumes the clean-shutdown marker and loads the dynamic
    /// broker configs.
    private static func prepare(
        config: BrokerConfig, files: any FileOperations, logger: Logger
    ) throws(StorageError) -> (clean: Bool, dynamic: DynamicBrokerConfig.Loaded) {
        try files.makeDirectoryDurably(config.dataDirectory)
        let clean = try CleanShutdownMarker.consume(dataDirectory: config.dataDirectory, files: files)
        if !clean && config.storageURL == nil && files.exists(TopicCatalog.path(dataDirectory: config.dataDirectory)) {
            logger.warning("previous shutdown was not clean: validating the newest segment of every partition")
        }
        let dynamic = try DynamicBrokerConfig.load(staticConfig: config, files: files)
        for problem in dynamic.rejected {
            logger.error("ignoring a saved dynamic broker config", metadata: ["problem": "\(problem)"])
        }
        return (clean, dynamic)
    }

    private static func assemble(
        config: BrokerConfig, dynamic: DynamicBrokerConfig.Loaded, topics: TopicRegistry, producerIds: ProducerIdAllocator,
        files: any FileOperations, logger: Logger,
        metrics: BrokerMetrics, clock: @escaping @Sendable () -> Int64
    ) throws(StorageError) -> Broker {
        let offsets = try OffsetStore(dataDirectory: config.dataDirectory, files: files)
        let groups = GroupCoordinator(settings: config.groupSettings, offsets: offsets, logger: logger, clock: clock)
        let transactionState = try TransactionStateStore(dataDirectory: config.dataDirectory, files: files)
        let credentials = try CredentialStore(dataDirectory: config.dataDirectory, files: files)
        try credentials.bootstrap(config.scramBootstrap, logger: logger)
        let authorizer = try Authorizer(settings: config.authorizer, dataDirectory: config.dataDirectory, files: files)
        let quotas = try ClientQuotas(dataDirectory: config.dataDirectory, files: files)
        return Broker(
            config: dynamic.config, topics: topics, groups: groups, producerIds: producerIds, transactionState: transactionState,
            logger: logger, metrics: metrics, clock: clock,
            dynamicConfig: DynamicBrokerConfig(staticConfig: config, overrides: dynamic.overrides, files: files),
            credentials: credentials, authorizer: authorizer, quotas: quotas
        )
    }

    /// The last step of a graceful shutdown, after requests have drained: fsyncs every
    /// partition and the offsets journal, and writes the clean-shutdown marker only when
    /// all of them are durable. Returns whether the marker was written.
    @discardableResult
    public func closeStorage() async -> Bool {
        var failures = await topics.closeAll().map { "\($0.partition): \($0.error)" }
        do {
            try await groups.offsets.sync()
        } catch {
            failures.append("offsets journal: \(error)")
        }
        guard failures.isEmpty else {
            for failure in failures { logger.critical("not synced at shutdown; the next start recovers it", metadata: ["failure": "\(failure)"]) }
            return false
        }
        do {
            try CleanShutdownMarker.write(dataDirectory: config.dataDirectory, files: topics.files)
            return true
        } catch {
            logger.critical("could not write the clean-shutdown marker", metadata: ["error": "\(error)"])
            return false
        }
    }
}
