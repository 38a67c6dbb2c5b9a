import KafkaProtocol

/// DescribeGroups (key 15), v0-5: state, protocol type and name, and each member with its
/// metadata for the chosen protocol and its assignment. An unknown group is reported as
/// Dead with no members, as Kafka does.
struct DescribeGroupsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...5
    let broker: Broker

    func handle(_ request: DescribeGroupsRequest, context: RequestContext) async -> DescribeGroupsResponse? {
        var described: [DescribeGroupsResponse.DescribedGroup] = []
        for groupId in request.groups {
            guard broker.authorized(context, .describe, .group, groupId) else {
                described.append(.init(errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue, groupId: groupId, groupState: "", protocolType: "", protocolData: "", members: []))
                continue
            }
            guard let group = await broker.groups.describe(groupId) else {
                described.append(.init(errorCode: 0, groupId: groupId, groupState: "Dead", protocolType: "", protocolData: "", members: []))
                continue
            }
            let members = group.members.map {
                DescribeGroupsResponse.DescribedGroupMember(
                    memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId,
                    clientHost: $0.clientHost, memberMetadata: $0.metadata(for: group.protocolName), memberAssignment: $0.assignment
                )
            }
            described.append(.init(
                errorCode: 0, groupId: groupId, groupState: group.phase.rawValue, protocolType: group.protocolType,
                protocolData: group.protocolName, members: members,
                authorizedOperations: request.includeAuthorizedOperations ? MetadataHandler.allGroupOperations : Int32.min
            ))
        }
        return DescribeGroupsResponse(throttleTimeMs: 0, groups: described)
    }
}
