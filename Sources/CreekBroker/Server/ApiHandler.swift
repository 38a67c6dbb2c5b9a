import KafkaProtocol

/// One API key's handler (a file per key under `Handlers/`, named with its number).
/// `versions` is what Creek advertises in ApiVersions and accepts.
protocol ApiHandler: Sendable {
    associatedtype Request: KafkaRequestMessage
    /// The versions advertised in ApiVersions.
    static var versions: ClosedRange<Int16> { get }
    /// The versions accepted: by default those advertised. A handler may accept older
    /// schema versions only to answer them with UNSUPPORTED_VERSION in their own shape.
    static var accepted: ClosedRange<Int16> { get }
    /// The response in the request's version, or nil for none (acks=0).
    func handle(_ request: Request, context: RequestContext) async -> Request.Response?
}

extension ApiHandler {
    static var accepted: ClosedRange<Int16> { versions }

    /// Decodes the body, runs the handler, encodes the response.
    func run(_ framed: FramedRequest, broker: Broker, context: RequestContext) async -> RequestOutcome {
        var body = framed.body
        let request: Request
        do {
            request = try Request(from: &body, version: framed.apiVersion)
        } catch {
            return .close("malformed \(framed.apiKey.name) v\(framed.apiVersion) body: \(error)")
        }
        guard let response = await handle(request, context: context) else { return .noResponse }
        return .respond(broker.encode(response, for: framed))
    }
}
