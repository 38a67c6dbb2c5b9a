import KafkaProtocol

/// One API key's handler (a file per key under `Handlers/`, named with its number).
/// `versions` is what Creek advertises in ApiVersions and accepts.
protocol ApiHandler: Sendable {
    associatedtype Request: KafkaRequestMessage
    static var versions: ClosedRange<Int16> { get }
    /// The response in the request's version, or nil for none (acks=0).
    func handle(_ request: Request, context: RequestContext) async -> Request.Response?
}

extension ApiHandler {
    /// Decodes the body, runs the handler, encodes the response.
    func run(_ framed: FramedRequest, context: RequestContext) async -> RequestOutcome {
        var body = framed.body
        let request: Request
        do {
            request = try Request(from: &body, version: framed.apiVersion)
        } catch {
            return .close("malformed \(framed.apiKey.name) v\(framed.apiVersion) body: \(error)")
        }
        guard let response = await handle(request, context: context) else { return .noResponse }
        return .respond(KafkaWriter.encodeResponse(response, version: framed.apiVersion, correlationId: framed.correlationId))
    }
}
