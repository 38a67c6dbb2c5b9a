import KafkaProtocol

/// JoinGroup (key 11), v0-9. The request is held until the group's rebalance completes
/// (see `GroupStateMachine`); from v4 a first join without a member id gets
/// MEMBER_ID_REQUIRED with the id to use. v0 has no rebalance timeout: the session
/// timeout stands in for it, as in Kafka.
struct JoinGroupHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...9
    let broker: Broker

    func handle(_ request: JoinGroupRequest, context: RequestContext) async -> JoinGroupResponse? {
        if request.groupId.isEmpty {
            return JoinGroupResponse(errorCode: KafkaErrorCode.invalidGroupId.rawValue, generationId: -1, memberId: request.memberId)
        }
        guard broker.coordinatesLocally(request.groupId) else {
            return JoinGroupResponse(errorCode: KafkaErrorCode.notCoordinator.rawValue, generationId: -1, memberId: request.memberId)
        }
        guard broker.authorized(context, .read, .group, request.groupId) else {
            broker.logDenied(context, .read, .group, request.groupId)
            return JoinGroupResponse(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue, generationId: -1, memberId: request.memberId)
        }
        let protocols = request.protocols.map { GroupMember.SupportedProtocol(name: $0.name, metadata: $0.metadata) }
        let rebalanceTimeout = context.apiVersion == 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs
        let host = context.peer.split(separator: ":").dropLast().joined(separator: ":")
        let outcome = await broker.groups.join(groupId: request.groupId) { token in
            JoinGroupInput(
                token: token, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
                clientId: context.clientId ?? "", clientHost: "/" + host, sessionTimeoutMs: request.sessionTimeoutMs,
                rebalanceTimeoutMs: rebalanceTimeout, protocolType: request.protocolType, protocols: protocols,
                requireKnownMemberId: context.apiVersion >= 4
            )
        }
        return JoinGroupResponse(
            throttleTimeMs: 0, errorCode: outcome.error.rawValue, generationId: outcome.generationId,
            protocolType: outcome.protocolType, protocolName: outcome.protocolName ?? (context.apiVersion >= 7 ? nil : ""),
            leader: outcome.leader, skipAssignment: outcome.skipAssignment, memberId: outcome.memberId,
            members: outcome.members.map { .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata) }
        )
    }
}
