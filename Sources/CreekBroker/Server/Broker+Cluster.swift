import CreekStorage

/// What Metadata, FindCoordinator and DescribeCluster say about the cluster: this broker
/// alone (the local engine), or the live brokers sharing a PostgreSQL database, with
/// partition leaders and coordinators spread over them (`ClusterView`).
extension Broker {
    /// A broker as a client of `listener` is told it.
    struct AdvertisedNode {
        var id: Int32
        var host: String
        var port: Int32
    }

    /// The live brokers, this one always included.
    func clusterNodes(for listener: String) -> [AdvertisedNode] {
        let local = node(for: listener)
        let me = AdvertisedNode(id: local.id, host: local.host, port: local.port)
        guard let cluster = topics.engine.cluster else { return [me] }
        var nodes = cluster.liveNodes().compactMap { node -> AdvertisedNode? in
            guard node.id != me.id, let address = node.address(for: listener) else { return nil }
            return AdvertisedNode(id: node.id, host: address.host, port: address.port)
        }
        nodes.append(me)
        return nodes.sorted { $0.id < $1.id }
    }

    /// The node that leads `partition` of `topic`.
    func leader(of topic: Topic, partition: Int32) -> Int32 {
        guard let cluster = topics.engine.cluster else { return node.id }
        return cluster.leader(topicId: TopicRegistry.hex(topic.id), partition: partition)
    }

    /// The node that coordinates a group or transactional id.
    func coordinator(for key: String, listener: String) -> AdvertisedNode {
        let nodes = clusterNodes(for: listener)
        guard let cluster = topics.engine.cluster else { return nodes[0] }
        let id = cluster.coordinator(key: key)
        return nodes.first { $0.id == id } ?? nodes.first { $0.id == node.id } ?? nodes[0]
    }

    /// Whether this broker coordinates `key` (always, when it is alone).
    func coordinatesLocally(_ key: String) -> Bool {
        guard let cluster = topics.engine.cluster else { return true }
        return cluster.isLocalCoordinator(key: key)
    }

    /// The controller Metadata and DescribeCluster name: the live broker with the lowest id.
    func controllerId(for listener: String) -> Int32 {
        clusterNodes(for: listener).first?.id ?? node.id
    }
}

extension Broker {
    /// In a cluster: SCRAM credentials, ACLs and client quotas are the cluster's (adopted
    /// from the shared documents, or seeded from this broker's when none were saved yet).
    func shareSecurityDocuments(_ documents: any SharedDocuments, bootstrap users: [ScramBootstrap]) async throws(StorageError) {
        try await credentials.share(with: documents, bootstrap: users)
        try await authorizer.document.share(with: documents)
        try await quotas.document.share(with: documents)
    }

    /// Adopts what other brokers saved since (called every second).
    func refreshSecurityDocuments(_ documents: any SharedDocuments) async {
        do {
            let versions = try await documents.versions()
            try await credentials.document.refresh(seen: versions[credentials.document.name])
            try await authorizer.document.refresh(seen: versions[authorizer.document.name])
            try await quotas.document.refresh(seen: versions[quotas.document.name])
        } catch {
            logger.warning("shared credentials, ACLs or quotas not refreshed", metadata: ["error": "\(error)"])
        }
    }
}
