import KafkaProtocol

/// LeaveGroup (key 13), v0-5: one member before v3, a batch (with group instance ids)
/// from v3. The group rebalances without the leavers, or becomes Empty.
struct LeaveGroupHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...5
    let broker: Broker

    func handle(_ request: LeaveGroupRequest, context: RequestContext) async -> LeaveGroupResponse? {
        guard broker.coordinatesLocally(request.groupId) else {
            return LeaveGroupResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.notCoordinator.rawValue)
        }
        guard broker.authorized(context, .read, .group, request.groupId) else {
            return LeaveGroupResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue)
        }
        let leaving: [(memberId: String, groupInstanceId: String?)] = context.apiVersion < 3
            ? [(request.memberId, nil)]
            : request.members.map { ($0.memberId, $0.groupInstanceId) }
        guard let errors = await broker.groups.leave(groupId: request.groupId, members: leaving) else {
            return LeaveGroupResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.unknownMemberId.rawValue,
                                      members: request.members.map { .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, errorCode: KafkaErrorCode.unknownMemberId.rawValue) })
        }
        if context.apiVersion < 3 {
            return LeaveGroupResponse(throttleTimeMs: 0, errorCode: errors.first?.rawValue ?? 0)
        }
        let members = zip(request.members, errors).map {
            LeaveGroupResponse.MemberResponse(memberId: $0.0.memberId, groupInstanceId: $0.0.groupInstanceId, errorCode: $0.1.rawValue)
        }
        return LeaveGroupResponse(throttleTimeMs: 0, errorCode: 0, members: members)
    }
}
