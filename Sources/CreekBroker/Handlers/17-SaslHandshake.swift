import KafkaProtocol

/// SaslHandshake (key 17), v0-1. On SASL_PLAINTEXT and SASL_SSL listeners the connection's
/// `SaslSession` answers it before routing; a request that reaches this handler came in
/// on a listener without SASL, and gets ILLEGAL_SASL_STATE with no mechanisms, as in Kafka.
struct SaslHandshakeHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...1

    func handle(_ request: SaslHandshakeRequest, context: RequestContext) async -> SaslHandshakeResponse? {
        SaslHandshakeResponse(errorCode: KafkaErrorCode.illegalSaslState.rawValue, mechanisms: [])
    }
}
