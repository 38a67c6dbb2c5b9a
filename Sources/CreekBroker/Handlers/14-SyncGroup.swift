import KafkaProtocol
import NIOCore

/// SyncGroup (key 14), v0-5. Followers wait until the leader's SyncGroup carries the
/// assignment; each member receives only its own. v5 checks protocol type and name.
struct SyncGroupHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...5
    let broker: Broker

    func handle(_ request: SyncGroupRequest, context: RequestContext) async -> SyncGroupResponse? {
        guard broker.coordinatesLocally(request.groupId) else {
            return SyncGroupResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.notCoordinator.rawValue, assignment: ByteBuffer())
        }
        guard broker.authorized(context, .read, .group, request.groupId) else {
            return SyncGroupResponse(throttleTimeMs: 0, errorCode: KafkaErrorCode.groupAuthorizationFailed.rawValue, assignment: ByteBuffer())
        }
        var assignments: [String: ByteBuffer] = [:]
        for entry in request.assignments { assignments[entry.memberId] = entry.assignment }
        let outcome = await broker.groups.sync(
            groupId: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
            generationId: request.generationId, protocolType: request.protocolType, protocolName: request.protocolName,
            assignments: assignments
        )
        return SyncGroupResponse(
            throttleTimeMs: 0, errorCode: outcome.error.rawValue, protocolType: outcome.protocolType,
            protocolName: outcome.protocolName, assignment: outcome.assignment
        )
    }
}
