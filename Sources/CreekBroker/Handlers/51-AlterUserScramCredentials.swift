import KafkaProtocol

/// AlterUserScramCredentials (key 51), v0: adds, replaces or deletes users' SCRAM
/// credentials. The client sends the salted password (never the password); Creek keeps
/// only the keys derived from it. Kafka's checks, per user: a known mechanism
/// (UNSUPPORTED_SASL_MECHANISM), 4096-16384 iterations, a non-empty name, salt and salted
/// password (UNACCEPTABLE_CREDENTIAL), one change per user and mechanism
/// (DUPLICATE_RESOURCE), a deletion of an existing credential (RESOURCE_NOT_FOUND). All of
/// a user's accepted changes are saved durably before the response.
struct AlterUserScramCredentialsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...0
    let broker: Broker

    func handle(_ request: AlterUserScramCredentialsRequest, context: RequestContext) async -> AlterUserScramCredentialsResponse? {
        guard broker.authorizedOnCluster(context, .alter) else {
            broker.logDenied(context, .alter, .cluster, AclResourceType.clusterName)
            let users = (request.deletions.map(\.name) + request.upsertions.map(\.name)).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            return AlterUserScramCredentialsResponse(throttleTimeMs: 0, results: users.map {
                .init(user: $0, errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: nil)
            })
        }
        var errors: [String: (KafkaErrorCode, String)] = [:]
        var changes: [String: [CredentialStore.Change]] = [:]
        var order: [String] = []
        var counts: [String: Int] = [:]
        for key in request.deletions.map({ "\($0.name)\u{0}\($0.mechanism)" }) + request.upsertions.map({ "\($0.name)\u{0}\($0.mechanism)" }) {
            counts[key, default: 0] += 1
        }
        func note(_ user: String) { if !order.contains(user) { order.append(user) } }
        func refuse(_ user: String, _ code: KafkaErrorCode, _ message: String) {
            if errors[user] == nil { errors[user] = (code, message) }
        }
        let existing = broker.credentials.all
        for deletion in request.deletions {
            note(deletion.name)
            guard let mechanism = ScramMechanism(wireValue: deletion.mechanism) else {
                refuse(deletion.name, .unsupportedSaslMechanism, "Unknown SCRAM mechanism \(deletion.mechanism)."); continue
            }
            guard counts["\(deletion.name)\u{0}\(deletion.mechanism)", default: 0] == 1 else {
                refuse(deletion.name, .duplicateResource, "More than one change for user \(deletion.name) and \(mechanism.rawValue)."); continue
            }
            guard existing[deletion.name]?[mechanism] != nil else {
                refuse(deletion.name, .resourceNotFound, "Attempt to delete a user credential that does not exist."); continue
            }
            changes[deletion.name, default: []].append(.delete(user: deletion.name, mechanism))
        }
        for upsertion in request.upsertions {
            note(upsertion.name)
            guard let mechanism = ScramMechanism(wireValue: upsertion.mechanism) else {
                refuse(upsertion.name, .unsupportedSaslMechanism, "Unknown SCRAM mechanism \(upsertion.mechanism)."); continue
            }
            guard counts["\(upsertion.name)\u{0}\(upsertion.mechanism)", default: 0] == 1 else {
                refuse(upsertion.name, .duplicateResource, "More than one change for user \(upsertion.name) and \(mechanism.rawValue)."); continue
            }
            guard !upsertion.name.isEmpty else { refuse(upsertion.name, .unacceptableCredential, "Username must not be empty."); continue }
            guard ScramMechanism.iterations.contains(upsertion.iterations) else {
                refuse(upsertion.name, .unacceptableCredential, "Iterations must be between \(ScramMechanism.iterations.lowerBound) and \(ScramMechanism.iterations.upperBound)."); continue
            }
            guard upsertion.salt.readableBytes > 0, upsertion.saltedPassword.readableBytes > 0 else {
                refuse(upsertion.name, .unacceptableCredential, "Salt and salted password must not be empty."); continue
            }
            let credential = ScramCredential(
                mechanism: mechanism, salt: Array(upsertion.salt.readableBytesView), iterations: upsertion.iterations,
                saltedPassword: Array(upsertion.saltedPassword.readableBytesView)
            )
            changes[upsertion.name, default: []].append(.upsert(user: upsertion.name, credential))
        }
        var response = AlterUserScramCredentialsResponse()
        for user in order {
            var result = AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult()
            result.user = user
            result.errorMessage = nil
            if let (code, message) = errors[user] {
                result.errorCode = code.rawValue
                result.errorMessage = message
            } else {
                do {
                    try await broker.credentials.apply(changes[user] ?? [])
                    broker.logger.notice("SCRAM credentials changed", metadata: ["user": "\(user)", "by": "\(context.principal)"])
                } catch {
                    result.errorCode = KafkaErrorCode(storage: error).rawValue
                    result.errorMessage = "Could not save the credentials: \(error)"
                }
            }
            response.results.append(result)
        }
        return response
    }
}
