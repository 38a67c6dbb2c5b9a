public import KafkaProtocol

/// How one API key is served: the versions advertised in ApiVersions, the versions
/// accepted (a handler may accept older ones only to answer UNSUPPORTED_VERSION in their
/// shape), and the handler that runs a request.
struct Route: Sendable {
    let versions: ClosedRange<Int16>
    let accepted: ClosedRange<Int16>
    let run: @Sendable (Broker, FramedRequest, RequestContext) async -> RequestOutcome

    init<Handler: ApiHandler>(_ type: Handler.Type, _ make: @escaping @Sendable (Broker) -> Handler) {
        versions = Handler.versions
        accepted = Handler.accepted
        run = { broker, framed, context in await make(broker).run(framed, broker: broker, context: context) }
    }
}

extension Broker {
    /// The one table of the APIs Creek serves: ApiVersions advertises from it and the
    /// router dispatches from it, so the two can never disagree.
    static let routes: [ApiKey: Route] = [
        .produce: Route(ProduceHandler.self) { ProduceHandler(broker: $0) },
        .fetch: Route(FetchHandler.self) { FetchHandler(broker: $0) },
        .listOffsets: Route(ListOffsetsHandler.self) { ListOffsetsHandler(broker: $0) },
        .metadata: Route(MetadataHandler.self) { MetadataHandler(broker: $0) },
        .offsetCommit: Route(OffsetCommitHandler.self) { OffsetCommitHandler(broker: $0) },
        .offsetFetch: Route(OffsetFetchHandler.self) { OffsetFetchHandler(broker: $0) },
        .findCoordinator: Route(FindCoordinatorHandler.self) { FindCoordinatorHandler(broker: $0) },
        .joinGroup: Route(JoinGroupHandler.self) { JoinGroupHandler(broker: $0) },
        .heartbeat: Route(HeartbeatHandler.self) { HeartbeatHandler(broker: $0) },
        .leaveGroup: Route(LeaveGroupHandler.self) { LeaveGroupHandler(broker: $0) },
        .syncGroup: Route(SyncGroupHandler.self) { SyncGroupHandler(broker: $0) },
        .describeGroups: Route(DescribeGroupsHandler.self) { DescribeGroupsHandler(broker: $0) },
        .listGroups: Route(ListGroupsHandler.self) { ListGroupsHandler(broker: $0) },
        .saslHandshake: Route(SaslHandshakeHandler.self) { _ in SaslHandshakeHandler() },
        .apiVersions: Route(ApiVersionsHandler.self) { _ in ApiVersionsHandler() },
        .createTopics: Route(CreateTopicsHandler.self) { CreateTopicsHandler(broker: $0) },
        .deleteTopics: Route(DeleteTopicsHandler.self) { DeleteTopicsHandler(broker: $0) },
        .deleteRecords: Route(DeleteRecordsHandler.self) { DeleteRecordsHandler(broker: $0) },
        .initProducerId: Route(InitProducerIdHandler.self) { InitProducerIdHandler(broker: $0) },
        .addPartitionsToTxn: Route(AddPartitionsToTxnHandler.self) { AddPartitionsToTxnHandler(broker: $0) },
        .addOffsetsToTxn: Route(AddOffsetsToTxnHandler.self) { AddOffsetsToTxnHandler(broker: $0) },
        .endTxn: Route(EndTxnHandler.self) { EndTxnHandler(broker: $0) },
        .writeTxnMarkers: Route(WriteTxnMarkersHandler.self) { WriteTxnMarkersHandler(broker: $0) },
        .txnOffsetCommit: Route(TxnOffsetCommitHandler.self) { TxnOffsetCommitHandler(broker: $0) },
        .offsetForLeaderEpoch: Route(OffsetForLeaderEpochHandler.self) { OffsetForLeaderEpochHandler(broker: $0) },
        .describeAcls: Route(DescribeAclsHandler.self) { DescribeAclsHandler(broker: $0) },
        .createAcls: Route(CreateAclsHandler.self) { CreateAclsHandler(broker: $0) },
        .deleteAcls: Route(DeleteAclsHandler.self) { DeleteAclsHandler(broker: $0) },
        .describeConfigs: Route(DescribeConfigsHandler.self) { DescribeConfigsHandler(broker: $0) },
        .alterConfigs: Route(AlterConfigsHandler.self) { AlterConfigsHandler(broker: $0) },
        .describeLogDirs: Route(DescribeLogDirsHandler.self) { DescribeLogDirsHandler(broker: $0) },
        .saslAuthenticate: Route(SaslAuthenticateHandler.self) { _ in SaslAuthenticateHandler() },
        .createPartitions: Route(CreatePartitionsHandler.self) { CreatePartitionsHandler(broker: $0) },
        .deleteGroups: Route(DeleteGroupsHandler.self) { DeleteGroupsHandler(broker: $0) },
        .incrementalAlterConfigs: Route(IncrementalAlterConfigsHandler.self) { IncrementalAlterConfigsHandler(broker: $0) },
        .offsetDelete: Route(OffsetDeleteHandler.self) { OffsetDeleteHandler(broker: $0) },
        .describeProducers: Route(DescribeProducersHandler.self) { DescribeProducersHandler(broker: $0) },
        .describeTransactions: Route(DescribeTransactionsHandler.self) { DescribeTransactionsHandler(broker: $0) },
        .listTransactions: Route(ListTransactionsHandler.self) { ListTransactionsHandler(broker: $0) },
        .describeUserScramCredentials: Route(DescribeUserScramCredentialsHandler.self) { DescribeUserScramCredentialsHandler(broker: $0) },
        .alterUserScramCredentials: Route(AlterUserScramCredentialsHandler.self) { AlterUserScramCredentialsHandler(broker: $0) },
        .describeClientQuotas: Route(DescribeClientQuotasHandler.self) { DescribeClientQuotasHandler(broker: $0) },
        .alterClientQuotas: Route(AlterClientQuotasHandler.self) { AlterClientQuotasHandler(broker: $0) },
        .describeCluster: Route(DescribeClusterHandler.self) { DescribeClusterHandler(broker: $0) },
    ]

    /// The API keys Creek serves and the versions it advertises in ApiVersions.
    public static var supportedVersions: [ApiKey: ClosedRange<Int16>] { routes.mapValues(\.versions) }
}
