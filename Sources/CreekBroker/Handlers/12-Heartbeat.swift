import KafkaProtocol

/// Heartbeat (key 12), v0-4: keeps a member's session alive; REBALANCE_IN_PROGRESS tells
/// it to rejoin, UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION / FENCED_INSTANCE_ID as in Kafka.
struct HeartbeatHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...4
    let broker: Broker

    func handle(_ request: HeartbeatRequest, context: RequestContext) async -> HeartbeatResponse? {
        guard broker.coordinatesLocally(request.groupId) else {
            return HeartbeatResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.notCoordinator.rawValue)
        }
        guard broker.authorized(context, .read, .group, request.groupId) else {
            return HeartbeatResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
        }
        let error = await broker.groups.heartbeat(
            groupId: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
            generationId: request.generationId
        )
        return HeartbeatResponse(throttleTimeMs: 0, errorCode: error.rawValue)
    }
}
