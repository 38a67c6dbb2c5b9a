import KafkaProtocol

/// ApiVersions (key 18), v0-4. Lists the keys and versions in `Broker.supportedVersions`.
/// A version above 4 never reaches here: the broker answers it with the KIP-511 v0 error
/// body. Leaves out: supported/finalized features (Creek has none).
struct ApiVersionsHandler: ApiHandler {
    static let versions: ClosedRange<Int16> = 0...4

    func handle(_ request: ApiVersionsRequest, context: RequestContext) async -> ApiVersionsResponse? {
        let keys = Broker.supportedVersions
            .sorted { $0.key.rawValue < $1.key.rawValue }
            .map { ApiVersionsResponse.ApiVersion(apiKey: $0.key.rawValue, minVersion: $0.value.lowerBound, maxVersion: $0.value.upperBound) }
        return ApiVersionsResponse(errorCode: 0, apiKeys: keys, throttleTimeMs: 0)
    }
}
