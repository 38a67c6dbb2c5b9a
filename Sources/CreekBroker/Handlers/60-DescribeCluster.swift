import KafkaProtocol

/// DescribeCluster (key 60), v0-1: this broker is the whole cluster and its controller.
/// Asking for controller endpoints (v1 endpoint type 2) gets MISMATCHED_ENDPOINT_TYPE.
struct DescribeClusterHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...1
    let broker: Broker

    func handle(_ request: DescribeClusterRequest, context: RequestContext) async -> DescribeClusterResponse? {
        if request.endpointType == 2 {
            return DescribeClusterResponse(
                errorCode: KafkaErrorCode.mismatchedEndpointType.rawValue,
                errorMessage: "This is a broker endpoint; Creek has no separate controllers.",
                endpointType: request.endpointType
            )
        }
        guard broker.authorizedOnCluster(context, .describe) else {
            broker.logDenied(context, .describe, .cluster, AclResourceType.clusterName)
            return DescribeClusterResponse(errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: nil, endpointType: request.endpointType)
        }
        return DescribeClusterResponse(
            errorCode: 0, endpointType: 1, clusterId: broker.topics.clusterId, controllerId: broker.controllerId(for: context.listener),
            brokers: broker.clusterNodes(for: context.listener).map { .init(brokerId: $0.id, host: $0.host, port: $0.port, rack: nil) },
            clusterAuthorizedOperations: request.includeClusterAuthorizedOperations ? MetadataHandler.allClusterOperations : Int32.min
        )
    }
}
