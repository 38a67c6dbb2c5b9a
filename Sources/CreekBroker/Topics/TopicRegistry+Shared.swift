public import CreekStorage

extension TopicRegistry {
    /// Adopts the store's catalog if other brokers changed it (nothing for a broker alone).
    public func refreshFromStore() async {
        guard engine.cluster != nil else { return }
        if let catalog = await engine.changedCatalog() {
            await adopt(catalog)
        } else {
            // The catalog watcher may be adopting a change right now: wait for it.
            await changes.acquire()
            await changes.release()
        }
    }

    /// A partition by topic name and index. In a cluster one this broker does not know yet
    /// may have just been created through another broker: the catalog is checked once
    /// before it is called unknown.
    public func partition(_ topic: String, _ index: Int32) async -> (any PartitionStorage)? {
        if let found = self.topic(named: topic)?.partition(index) { return found }
        guard engine.cluster != nil else { return nil }
        await refreshFromStore()
        return self.topic(named: topic)?.partition(index)
    }

    /// `partition`, ready to serve here (`prepareToServe`), for requests that name topics
    /// by name only (ListOffsets): in a cluster the catalog is checked first, so a topic
    /// deleted and created again through another broker is never answered for from the old
    /// one; and when the copy names another leader, once more before the request is sent
    /// elsewhere.
    public func servingPartition(_ topic: String, _ index: Int32) async throws(StorageError) -> (any PartitionStorage)? {
        await refreshFromStore()
        guard let partition = self.topic(named: topic)?.partition(index) else { return nil }
        do {
            try await partition.prepareToServe()
            return partition
        } catch {
            guard case .notLeader = error, engine.cluster != nil else { throw error }
            await refreshFromStore()
            guard let current = self.topic(named: topic)?.partition(index) else { return nil }
            try await current.prepareToServe()
            return current
        }
    }

    /// Brings the registry in line with the catalog as the store has it now, when other
    /// brokers share the store: topics they created are opened, topics they deleted are
    /// dropped (their data is removed by the broker that deleted them), added partitions
    /// are opened and changed configs applied. Serialised with this broker's own changes.
    public func adopt(_ catalog: TopicCatalog) async {
        await changes.acquire()
        let current = state.withLockedValue { $0.byName }
        var opened: [Topic] = []
        var reconfigured: [Topic] = []
        for entry in catalog.topics {
            guard let id = Self.parseId(entry.id) else { continue }
            let existing = current[entry.name].flatMap { $0.id == id ? $0 : nil }
            let logConfig = TopicConfigs.logConfig(broker: config, overrides: entry.configs)
            var partitions = existing?.partitions ?? []
            do {
                for index in Int32(partitions.count)..<max(Int32(partitions.count), entry.partitions) {
                    partitions.append(try await engine.openPartition(
                        topic: entry.name, topicId: entry.id, index: index, config: logConfig, recover: false, isNew: false, nowMs: clock()
                    ))
                }
            } catch {
                continue  // tried again at the next refresh
            }
            let topic = Topic(name: entry.name, id: id, partitions: partitions, overrides: entry.configs, logConfig: logConfig)
            if existing == nil || existing?.partitions.count != partitions.count {
                opened.append(topic)
            } else if existing?.overrides != entry.configs {
                reconfigured.append(topic)
            }
        }
        let kept = Set(catalog.topics.map(\.name))
        let dropped = current.values.filter { topic in
            !kept.contains(topic.name) || catalog.topics.contains { $0.name == topic.name && Self.parseId($0.id) != topic.id }
        }
        state.withLockedValue { state in
            state.catalog = catalog
            for topic in dropped {
                state.byName[topic.name] = nil
                state.byId[topic.id] = nil
            }
            for topic in opened + reconfigured {
                state.byName[topic.name] = topic
                state.byId[topic.id] = topic.name
            }
        }
        await changes.release()
        for topic in dropped {
            for partition in topic.partitions { await partition.wakeWaiters() }
        }
        for topic in reconfigured {
            for partition in topic.partitions { await partition.update(config: topic.logConfig) }
        }
    }
}
