import KafkaProtocol

/// DeleteGroups (key 42), v0-2: NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND
/// for an unknown group; otherwise the group and its committed offsets are removed.
struct DeleteGroupsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...2
    let broker: Broker

    func handle(_ request: DeleteGroupsRequest, context: RequestContext) async -> DeleteGroupsResponse? {
        var results: [DeleteGroupsResponse.DeletableGroupResult] = []
        for groupId in request.groupsNames {
            guard broker.authorized(context, .delete, .group, groupId) else {
                broker.logDenied(context, .delete, .group, groupId)
                results.append(.init(groupId: groupId, errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue))
                continue
            }
            let code: KafkaErrorCode
            do {
                switch try await broker.groups.delete(groupId) {
                case .deleted:
                    code = .none
                    broker.logger.info("deleted group", metadata: ["group": "\(groupId)"])
                case .notFound: code = .groupIdNotFound
                case .notEmpty: code = .nonEmptyGroup
                }
            } catch {
                broker.logger.error("group deletion failed", metadata: ["group": "\(groupId)", "error": "\(error)"])
                code = .kafkaStorageError
            }
            results.append(.init(groupId: groupId, errorCode: code.rawValue))
        }
        return DeleteGroupsResponse(throttleTimeMs: 0, results: results)
    }
}
