import KafkaProtocol

/// ListGroups (key 16), v0-5, with the v4 state filter and the v5 type filter
/// (every group here is "classic").
struct ListGroupsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...5
    let broker: Broker

    func handle(_ request: ListGroupsRequest, context: RequestContext) async -> ListGroupsResponse? {
        let states = Set(request.statesFilter.map { $0.lowercased() })
        let types = Set(request.typesFilter.map { $0.lowercased() })
        let everything = broker.authorizedOnCluster(context, .describe)
        let groups = await broker.groups.allGroups().filter { group in
            (everything || broker.authorized(context, .describe, .group, group.groupId)) && (states.isEmpty || states.contains(group.phase.rawValue.lowercased())) && (types.isEmpty || types.contains("classic"))
        }
        return ListGroupsResponse(throttleTimeMs: 0, errorCode: 0, groups: groups.map {
            .init(groupId: $0.groupId, protocolType: $0.protocolType, groupState: $0.phase.rawValue, groupType: "classic")
        })
    }
}
