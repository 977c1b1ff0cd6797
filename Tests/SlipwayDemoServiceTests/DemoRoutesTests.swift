import Foundation
import Hummingbird
import HummingbirdTesting
import SlipwayDemoService
import Testing

/// The routes of the demo service with no faults dialled in.
@Suite struct DemoRoutesTests {
    private func service(_ configure: (inout DemoOptions) -> Void = { _ in }) -> (DemoService, RecordingHooks) {
        var options = DemoOptions()
        options.app = "shop"
        options.version = "1.2.3"
        options.instance = "blue-1"
        configure(&options)
        let recorder = RecordingHooks()
        return (DemoService(options: options, hooks: recorder.hooks), recorder)
    }

    @Test func rootReportsIdentityAndCountsRequests() async throws {
        let (service, recorder) = service()
        try await service.makeApplication().test(.router) { client in
            for expected in 1...3 {
                try await client.execute(uri: "/", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                    let body = try response.decoded(IdentityResponse.self)
                    let expectedBody = IdentityResponse(
                        app: "shop",
                        version: "1.2.3",
                        instance: "blue-1",
                        pid: Int(getpid()),
                        request: expected
                    )
                    #expect(body == expectedBody)
                }
            }
        }
        #expect(service.requestCount == 3)
        #expect(recorder.outputLines.count == 3)
        #expect(recorder.outputLines.allSatisfy { $0.hasPrefix("GET / 200 ") && $0.hasSuffix("ms") })
    }

    @Test func rootBodyHasTheDocumentedKeys() async throws {
        let (service, _) = service()
        try await service.makeApplication().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
                let keys = (object as? [String: Any]).map { Set($0.keys) } ?? []
                #expect(keys == ["app", "version", "instance", "pid", "request"])
            }
        }
    }

    @Test func healthzAnswersOkAndIsNotCounted() async throws {
        let (service, recorder) = service()
        try await service.makeApplication().test(.router) { client in
            for _ in 1...3 {
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.text == "ok")
                }
            }
            try await client.execute(uri: "/", method: .get) { response in
                let body = try response.decoded(IdentityResponse.self)
                #expect(body.request == 1)
            }
        }
        #expect(service.requestCount == 1)
        #expect(recorder.outputLines.count == 1)
    }

    @Test func workWaitsTheRequestedTime() async throws {
        let (service, recorder) = service()
        try await service.makeApplication().test(.router) { client in
            let start = ContinuousClock.now
            try await client.execute(uri: "/work?ms=250", method: .get) { response in
                #expect(response.status == .ok)
                let body = try response.decoded(WorkResponse.self)
                #expect(body == WorkResponse(version: "1.2.3", instance: "blue-1", workedMs: 250))
            }
            #expect(ContinuousClock.now - start >= .milliseconds(250))
        }
        #expect(service.requestCount == 1)
        #expect(recorder.outputLines.first?.hasPrefix("GET /work?ms=250 200 ") == true)
    }

    @Test(arguments: ["/work", "/work?ms=", "/work?ms=abc", "/work?ms=-1", "/work?ms=60001", "/work?ms=1.5"])
    func workRejectsBadMilliseconds(uri: String) async throws {
        let (service, _) = service()
        try await service.makeApplication().test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.text.contains("ms"))
            }
        }
        #expect(service.requestCount == 0)
    }

    @Test func unknownPathIsNotFound() async throws {
        let (service, _) = service()
        try await service.makeApplication().test(.router) { client in
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
        #expect(service.requestCount == 0)
    }

    @Test func listeningLineNamesAppVersionInstanceAndAddress() {
        let (service, _) = service { $0.host = "0.0.0.0" }
        #expect(
            service.listeningLine(port: 8080)
                == "slipway-demo-app shop 1.2.3 instance blue-1 listening on 0.0.0.0:8080"
        )
    }
}
