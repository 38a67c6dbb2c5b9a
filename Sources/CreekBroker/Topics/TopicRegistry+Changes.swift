import CreekStorage

extension TopicRegistry {
    /// Runs one change at a time (see `ChangeGate`).
    private func serialized<T>(_ body: () async throws(TopicError) -> T) async throws(TopicError) -> T {
        await changes.acquire()
        let result: Result<T, TopicError>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        await changes.release()
        return try result.get()
    }

    /// Runs storage work; a failure becomes `.storage`, a catalog conflict (another broker
    /// changed the same topic meanwhile) `.changedConcurrently`.
    private func storage<T>(_ what: String, _ body: () async throws(StorageError) -> T) async throws(TopicError) -> T {
        do {
            return try await body()
        } catch {
            if case .catalogConflict(let topic) = error { throw .changedConcurrently(topic) }
            throw .storage("\(what): \(error)")
        }
    }

    /// Runs `change` again over the catalog as the store has it now while another broker's
    /// change to the same topic keeps winning the race (a few times, then the error stands).
    private func retryingConflicts<T>(_ change: () async throws(TopicError) -> T) async throws(TopicError) -> T {
        var attempt = 1
        while true {
            do {
                return try await change()
            } catch {
                guard case .changedConcurrently = error, attempt < 4 else { throw error }
                attempt += 1
                await refreshFromStore()
            }
        }
    }

    private var catalog: TopicCatalog { state.withLockedValue { $0.catalog } }

    /// Creates a topic. `partitions` -1 means `num.partitions`; replication factor must be
    /// -1 or 1 on a single node. With `validateOnly`, checks everything and changes nothing.
    /// The partition directories and the catalog are written off the lock, so lookups (every
    /// produce and fetch) never wait for them.
    @discardableResult
    public func create(
        name: String, partitions requested: Int32, replicationFactor: Int16 = -1,
        configs: [String: String] = [:], validateOnly: Bool = false
    ) async throws(TopicError) -> Topic {
        if let problem = TopicName.problem(name) { throw .invalidTopic(problem) }
        let count = requested == -1 ? config.numPartitions : requested
        guard count >= 1 else { throw .invalidPartitions("Number of partitions must be larger than 0 (got \(requested)).") }
        guard count <= 100_000 else { throw .invalidPartitions("Number of partitions \(count) is above the limit of 100000.") }
        guard replicationFactor == -1 || replicationFactor == 1 else {
            throw .invalidReplicationFactor("Replication factor \(replicationFactor) is larger than the 1 available broker.")
        }
        for (key, value) in configs {
            if let problem = TopicConfigs.validate(name: key, value: value) {
                throw .invalidConfig("Invalid config \(key)=\(value): \(problem)")
            }
        }
        do {
            return try await createOnce(name: name, count: count, configs: configs, validateOnly: validateOnly)
        } catch {
            guard case .changedConcurrently = error else { throw error }
            // Another broker created a topic of this name at the same moment and saved first.
            await refreshFromStore()
            throw .alreadyExists(name)
        }
    }

    private func createOnce(name: String, count: Int32, configs: [String: String], validateOnly: Bool) async throws(TopicError) -> Topic {
        try await serialized { () async throws(TopicError) -> Topic in
            if topic(named: name) != nil { throw .alreadyExists(name) }
            let id = Self.newTopicId()
            let logConfig = TopicConfigs.logConfig(broker: config, overrides: configs)
            if validateOnly { return Topic(name: name, id: id, partitions: [], overrides: configs, logConfig: logConfig) }
            let before = catalog
            var updated = before
            updated.topics.append(.init(name: name, id: Self.hex(id), partitions: count, configs: configs))
            let saved = updated
            let partitions = try await storage("Could not create topic '\(name)'") { () async throws(StorageError) -> [any PartitionStorage] in
                var logs: [any PartitionStorage] = []
                for index in 0..<count { logs.append(try await openNewPartition(topic: name, id: id, index: index, logConfig: logConfig)) }
                do throws(StorageError) {
                    try await engine.saveCatalog(saved, replacing: before)
                } catch {
                    // Lost the race for the name: the partitions opened for it go again.
                    if case .catalogConflict = error {
                        for log in logs { (try? await log.retire(tag: Self.hex(id)))?() }
                    }
                    throw error
                }
                return logs
            }
            let created = Topic(name: name, id: id, partitions: partitions, overrides: configs, logConfig: logConfig)
            state.withLockedValue { state in
                state.catalog = saved
                state.byName[name] = created
                state.byId[id] = name
            }
            return created
        }
    }

    /// Deletes a topic: removed from the catalog (durably), each partition's directory
    /// renamed aside at once, then removed in the background.
    public func delete(name: String) async throws(TopicError) {
        guard config.deleteTopicEnable else { throw .deletionDisabled }
        let removed = try await serialized { () async throws(TopicError) -> Topic in
            guard let topic = topic(named: name) else { throw .unknownTopic(name) }
            let before = catalog
            var updated = before
            updated.topics.removeAll { $0.name == name }
            let saved = updated
            try await storage("Could not delete topic '\(name)'") { () async throws(StorageError) in
                try await engine.saveCatalog(saved, replacing: before)
            }
            state.withLockedValue { state in
                state.catalog = saved
                state.byName[name] = nil
                state.byId[topic.id] = nil
            }
            return topic
        }
        try await retire(removed)
    }

    /// Sets a deleted topic's partition directories aside, then removes them in the background.
    private func retire(_ topic: Topic) async throws(TopicError) {
        var removals: [@Sendable () -> Void] = []
        for partition in topic.partitions {
            do {
                removals.append(try await partition.retire(tag: Self.hex(topic.id)))
            } catch {
                throw .storage("Topic '\(topic.name)' was deleted but its data was not all set aside: \(error)")
            }
        }
        let pending = removals
        Task.detached(priority: .background) {
            for remove in pending { remove() }
        }
    }

    /// Raises a topic's partition count to `total`.
    public func createPartitions(name: String, total: Int32, validateOnly: Bool) async throws(TopicError) {
        try await retryingConflicts { () async throws(TopicError) in
            try await createPartitionsOnce(name: name, total: total, validateOnly: validateOnly)
        }
    }

    private func createPartitionsOnce(name: String, total: Int32, validateOnly: Bool) async throws(TopicError) {
        try await serialized { () async throws(TopicError) in
            guard let topic = topic(named: name) else { throw .unknownTopic(name) }
            let current = Int32(topic.partitions.count)
            guard total > current else {
                throw .invalidPartitions("Topic '\(name)' has \(current) partitions; the new count must be larger (got \(total)).")
            }
            guard total <= 100_000 else { throw .invalidPartitions("Number of partitions \(total) is above the limit of 100000.") }
            if validateOnly { return }
            let before = catalog
            var updated = before
            if let position = updated.topics.firstIndex(where: { $0.name == name }) { updated.topics[position].partitions = total }
            let saved = updated
            let logConfig = topic.logConfig
            let added = try await storage("Could not add partitions to '\(name)'") { () async throws(StorageError) -> [any PartitionStorage] in
                var logs: [any PartitionStorage] = []
                for index in current..<total { logs.append(try await openNewPartition(topic: name, id: topic.id, index: index, logConfig: logConfig)) }
                try await engine.saveCatalog(saved, replacing: before)
                return logs
            }
            state.withLockedValue { state in
                state.catalog = saved
                state.byName[name] = Topic(
                    name: name, id: topic.id, partitions: topic.partitions + added, overrides: topic.overrides, logConfig: logConfig
                )
            }
        }
    }

    /// Replaces a topic's overrides with `compute(current overrides)`, validated, computed
    /// over the overrides as the store has them now and computed again when another change to
    /// the topic (on this broker or another) saves between that read and this save. With
    /// `validateOnly`, checks and changes nothing. Returns the overrides set.
    @discardableResult
    public func changeConfigs(
        name: String, validateOnly: Bool, compute: ([String: String]) throws(TopicError) -> [String: String]
    ) async throws(TopicError) -> [String: String] {
        await refreshFromStore()
        return try await retryingConflicts { () async throws(TopicError) -> [String: String] in
            guard let topic = topic(named: name) else { throw .unknownTopic(name) }
            let overrides = try compute(topic.overrides)
            for (key, value) in overrides {
                if let problem = TopicConfigs.validate(name: key, value: value) {
                    throw .invalidConfig("Invalid config \(key)=\(value): \(problem)")
                }
            }
            if !validateOnly { try await setConfigs(name: name, overrides: overrides, computedFrom: topic.overrides) }
            return overrides
        }
    }

    /// Replaces a topic's config overrides (already validated) and applies them to its logs.
    /// With `computedFrom` (the overrides the new set was derived from), refuses with
    /// `.changedConcurrently` when another change got in first, here or through another broker.
    public func setConfigs(name: String, overrides: [String: String], computedFrom base: [String: String]? = nil) async throws(TopicError) {
        let updated = try await serialized { () async throws(TopicError) -> Topic in
            guard let topic = topic(named: name) else { throw .unknownTopic(name) }
            if let base, topic.overrides != base { throw .changedConcurrently(name) }
            let before = catalog
            var updated = before
            if let position = updated.topics.firstIndex(where: { $0.name == name }) { updated.topics[position].configs = overrides }
            let saved = updated
            try await storage("Could not save configs of '\(name)'") { () async throws(StorageError) in
                try await engine.saveCatalog(saved, replacing: before)
            }
            let changed = Topic(
                name: name, id: topic.id, partitions: topic.partitions, overrides: overrides,
                logConfig: TopicConfigs.logConfig(broker: config, overrides: overrides)
            )
            state.withLockedValue { state in
                state.catalog = saved
                state.byName[name] = changed
            }
            return changed
        }
        for partition in updated.partitions {
            await partition.update(config: updated.logConfig)
        }
    }

    /// Puts a new broker configuration in force (dynamic broker configs): every topic's log
    /// settings are derived again from it (topic overrides still win) and applied to its
    /// partitions.
    public func apply(brokerConfig updated: BrokerConfig) async {
        await changes.acquire()
        brokerConfig.withLockedValue { $0 = updated }
        let changed: [Topic] = state.withLockedValue { state in
                var changed: [Topic] = []
                for (name, topic) in state.byName {
                    let logConfig = TopicConfigs.logConfig(broker: updated, overrides: topic.overrides)
                    guard logConfig != topic.logConfig else { continue }
                    let replaced = Topic(name: name, id: topic.id, partitions: topic.partitions, overrides: topic.overrides, logConfig: logConfig)
                    state.byName[name] = replaced
                    changed.append(replaced)
                }
                return changed
        }
        await changes.release()
        for topic in changed {
            for partition in topic.partitions { await partition.update(config: topic.logConfig) }
        }
    }
}
