public import KafkaProtocol

extension Broker {
    /// Serves a Produce or a Fetch on the calling thread — the connection's event loop —
    /// when the connection has no earlier request still waiting for its ordered step, so the
    /// hot paths take no task, actor or thread hop: a Produce is validated and appended here
    /// (its fsync, when the policy needs one, runs on the group-commit thread, which calls
    /// `finish`); a Fetch that can be answered now is read and answered here. Returns false
    /// when the request must go through `prepare`/`dispatch` instead (a long poll, another
    /// API, an unserved version); `finish` is then never called.
    public func handleInPlace(_ framed: FramedRequest, peer: String, listener: String, principal: String = KafkaPrincipal.anonymous, finish: @escaping @Sendable (RequestOutcome) -> Void) -> Bool {
        // Only the local log can be appended to and read on the event loop.
        guard topics.servesInPlace else { return false }
        switch framed.apiKey {
        case .produce where ProduceHandler.versions.contains(framed.apiVersion):
            let prepared = prepare(framed, peer: peer, listener: listener, principal: principal)
            switch prepared.kind {
            case .failed(let outcome):
                finish(outcome)
            case .produce(let validated):
                countRequest(+1)
                // The response needs only these two: `framed` holds the request's bytes (a
                // slice of the socket read), which must not wait for the fsync.
                let (version, correlationId) = (framed.apiVersion, framed.correlationId)
                ProduceHandler(broker: self).appendInPlace(validated) { completion in
                    self.countRequest(-1)
                    switch completion {
                    case .none: finish(.noResponse)
                    case .close(let reason): finish(.close(reason))
                    case .respond(let response):
                        finish(.respond(self.encode(response, version: version, correlationId: correlationId)))
                    }
                }
            case .other:
                return false
            }
            return true
        case .fetch where FetchHandler.versions.contains(framed.apiVersion):
            var body = framed.body
            // A body that does not decode takes the ordinary path, which reports it.
            guard let request = try? FetchRequest(from: &body, version: framed.apiVersion) else { return false }
            let context = RequestContext(framed, peer: peer, listener: listener, principal: principal)
            guard let response = FetchHandler(broker: self).answerInPlace(request, context: context) else { return false }
            finish(.respond(self.encode(response, for: framed)))
            return true
        default:
            return false
        }
    }
}
