import SlipwayCore
import Testing

@testable import SlipwayKubernetes

/// A watch's body as the API server sends it: newline-delimited events in chunks that split them anywhere.
@Suite struct WatchLinesTests {
    static let events = [
        #"{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"10"}}}"#,
        #"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"12"}}}"#,
        #"{"type":"DELETED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"13"}}}"#,
    ]

    @Test func eventsSplitAnywhereAcrossChunksComeOutWholeAndInOrder() throws {
        let body = Array((Self.events.joined(separator: "\n") + "\n\n").utf8)
        for size in [1, 7, 64, body.count] {
            var lines = WatchLines()
            var decoded: [WatchEvent] = []
            var start = 0
            while start < body.count {
                let end = min(body.count, start + size)
                for line in try lines.feed(body[start..<end]) {
                    decoded.append(try WatchLines.decode(line, call: "GET /api/v1/pods"))
                }
                start = end
            }
            #expect(decoded.map(\.kind) == [.added, .bookmark, .deleted], "chunks of \(size)")
            #expect(decoded.map(\.resourceVersion) == ["10", "12", "13"])
        }
    }

    @Test func anErrorEventIsTheServersStatusAndAnExpiredVersionSaysListAgain() {
        let line = Array(
            #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 5 (120)","reason":"Expired","code":410}}"#
                .utf8
        )
        #expect {
            _ = try WatchLines.decode(line, call: "GET /api/v1/pods?watch=1")
        } throws: { error in
            guard let error = error as? KubernetesError else { return false }
            return error.isExpired && error.reason == "Expired" && error.message.contains("too old resource version")
        }
    }

    @Test func aLineThatIsNotAnEventOrTooLongIsAnError() {
        #expect(throws: KubernetesError.self) { _ = try WatchLines.decode(Array("not json".utf8), call: "GET /x") }
        #expect(throws: KubernetesError.self) {
            _ = try WatchLines.decode(Array(#"{"type":"RENAMED","object":{}}"#.utf8), call: "GET /x")
        }
        var lines = WatchLines(maximum: 8)
        #expect(throws: WatchLineTooLong.self) { _ = try lines.feed(Array("0123456789".utf8)) }
    }

    @Test func aStatusNamesItsCauses() {
        let cause: JSONValue = .object(["reason": "FieldManagerConflict", "field": ".spec.replicas"])
        let status: JSONValue = .object([
            "kind": "Status", "code": 409, "reason": "Conflict", "message": "Apply failed with 1 conflict",
            "details": .object(["causes": .array([cause])]),
        ])
        let error = KubernetesError(status: status, code: 409, call: "PATCH /apis/apps/v1/namespaces/a/deployments/b")
        #expect(error.isConflict && error.causes == ["FieldManagerConflict"])
        #expect(error.description.contains("HTTP 409 Conflict: Apply failed with 1 conflict (FieldManagerConflict)"))
    }
}
