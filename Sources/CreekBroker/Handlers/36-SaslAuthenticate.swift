import KafkaProtocol

/// SaslAuthenticate (key 36), v0-2: as SaslHandshake, answered by the connection's
/// `SaslSession` on SASL listeners; ILLEGAL_SASL_STATE elsewhere.
struct SaslAuthenticateHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...2

    func handle(_ request: SaslAuthenticateRequest, context: RequestContext) async -> SaslAuthenticateResponse? {
        var response = SaslAuthenticateResponse()
        response.errorCode = KafkaErrorCode.illegalSaslState.rawValue
        response.errorMessage = "The \(context.listener) listener does not use SASL."
        return response
    }
}
