import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SlipwayConfig
import SlipwayCore
import SlipwayEngine

/// Where the executor asks the PromQL queries of analysis checks.
public protocol QuerySource: Sendable {
    /// The answer to `query` (placeholders already filled in) now: one number, or why there is none.
    func answer(_ query: String) async -> QueryAnswer
}

/// A Prometheus server's instant-query API (`POST /api/v1/query`).
///
/// A query must come to exactly one number: a scalar, or a vector of one sample. An error, a timeout, no sample, more
/// than one series or NaN is ``QueryAnswer/unavailable(_:)`` with the reason, which the analysis counts as an
/// inconclusive window, never as a pass.
public struct PrometheusClient: QuerySource {
    let spec: PrometheusSpec
    let client: HTTPClient

    /// A client of the Prometheus `spec` names, over `client`.
    public init(spec: PrometheusSpec, client: HTTPClient) {
        self.spec = spec
        self.client = client
    }

    public func answer(_ query: String) async -> QueryAnswer {
        var base = spec.url
        while base.hasSuffix("/") { base.removeLast() }
        var request = HTTPClientRequest(url: base + "/api/v1/query")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "query=" + Self.formEncoded(query)))
        let status: UInt
        let body: ByteBuffer
        do {
            let timeout = TimeAmount.nanoseconds(spec.timeout.nanoseconds)
            let response = try await client.execute(request, timeout: timeout)
            status = response.status.code
            body = try await response.body.collect(upTo: 4 << 20)
        } catch {
            return .unavailable("Prometheus at \(spec.url) did not answer: \(error)")
        }
        return Self.answer(status: status, body: Data(buffer: body))
    }

    /// The answer an HTTP response of the query API holds.
    static func answer(status: UInt, body: Data) -> QueryAnswer {
        guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            return .unavailable("Prometheus answered \(status) without a JSON body")
        }
        guard object["status"]?.stringValue == "success", case .object(let data)? = object["data"] else {
            let error = object["error"]?.stringValue ?? "status \(status)"
            return .unavailable("Prometheus refused the query: \(error)")
        }
        let sample: JSONValue?
        switch (data["resultType"]?.stringValue, data["result"]) {
        case ("scalar", let value?):
            sample = value
        case ("vector", .array(let series)?):
            guard !series.isEmpty else { return .unavailable("the query returned no data") }
            guard series.count == 1 else {
                return .unavailable("the query returned \(series.count) series; aggregate them to one, e.g. with sum()")
            }
            guard case .object(let one) = series[0] else { return .unavailable("the query's sample is malformed") }
            sample = one["value"]
        case (let type, _):
            return .unavailable("the query returned a \(type ?? "malformed") result; expected one number")
        }
        guard case .array(let pair)? = sample, pair.count == 2, let text = pair[1].stringValue,
            let value = Double(text)
        else { return .unavailable("the query's sample is malformed") }
        guard value.isFinite else { return .unavailable("the query's value is \(text)") }
        return .value(value)
    }

    /// `text` as a form value: every byte but the unreserved ones percent-encoded (so `+` stays a plus).
    static func formEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }
}
