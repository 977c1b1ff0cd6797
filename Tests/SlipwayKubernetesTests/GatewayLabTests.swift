import Foundation
import SlipwayConfig
import SlipwayCore
import SlipwayTestSupport
import Testing
import Yams

@testable import SlipwayKubernetes

/// The Gateway API's own CRDs (v1.3.0, from `SLIPWAY_GATEWAY_API_CRDS`, default
/// `/work/shared/testdata/gateway-api-v1.3.0`) installed into the lab's real API server: the weights of the route
/// Slipway writes are stored as written at every step of a canary, and weights the Gateway API does not allow are
/// refused by the server's own validation. There is no Gateway implementation in the lab: nothing routes by the
/// route, and no `status.parents` appears.
@Suite("Gateway API routes against a real API server", .serialized)
struct GatewayLabTests {
    static let crds =
        ProcessInfo.processInfo.environment["SLIPWAY_GATEWAY_API_CRDS"] ?? "/work/shared/testdata/gateway-api-v1.3.0"
    static let workload = KubernetesWorkload(
        app: "shop",
        settings: AppKubernetesSpec(namespace: "shop", image: "registry.example/shop:{version}")
    )
    static let parent = GatewayManifests.Parent(name: "public", namespace: "gateways", sectionName: "https")

    /// The CRD as the 1.20 server takes it: without the `default: ""` lines its CRD validation refuses.
    static func definition(_ file: String) throws -> JSONValue {
        let text = try String(contentsOfFile: crds + "/" + file, encoding: .utf8)
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter {
            $0.trimmingCharacters(in: .whitespaces) != #"default: """#
        }
        let object = try Yams.load(yaml: kept.joined(separator: "\n")) ?? [:]
        return try JSONDecoder().decode(JSONValue.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test func theRouteAndServicesAreValidOnCurrentKubernetesAndTheCRDsSchema() async throws {
        let route = GatewayManifests.route(
            of: Self.workload,
            parent: Self.parent,
            hostnames: ["shop.example.com"],
            weights: [("1.0.0", 90), ("2.0.0", 10)]
        )
        let services = ["1.0.0", "2.0.0"].map { GatewayManifests.service(of: Self.workload, version: $0) }
        let result = try await KubeValidate.check(services + [route])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("HTTPRoute/shop-route"), "\(result.output)")
        #expect(GatewayManifests.weights(in: route).map(\.weight) == [90, 10])
    }

    @Test(.tags(.heavy)) func weightsLandInTheStoredRouteAndInvalidOnesAreRefused() async throws {
        try await HeavyLoad.exclusive {
            try await KubeLab.with { lab in
                let client = try KubernetesClient(try Kubeconfig.credentials(file: lab.kubeconfig))
                do {
                    try await Self.exercise(client)
                } catch {
                    await client.shutdown()
                    throw error
                }
                await client.shutdown()
            }
        }
    }

    private static func exercise(_ client: KubernetesClient) async throws {
        for file in [
            "gateway.networking.k8s.io_gatewayclasses.yaml", "gateway.networking.k8s.io_gateways.yaml",
            "gateway.networking.k8s.io_httproutes.yaml",
        ] {
            let crd = try definition(file)
            let name = try #require(crd.metadata?["name"]?.stringValue)
            // Created, not applied: the 1.20 server's apply knows no `x-kubernetes-validations` (CEL came in 1.23),
            // while a create drops them, as `kubectl apply --validate=false` would.
            _ = try await client.create(crd, in: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
            try await waitUntil("\(name) is established", timeout: .seconds(30)) {
                let stored = try await client.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/\(name)")
                guard case .array(let conditions) = stored["status"]?["conditions"] ?? .null else { return false }
                return conditions.contains { $0["type"] == "Established" && $0["status"] == "True" }
            }
        }
        _ = try await client.apply(
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "shop"]],
            at: "/api/v1/namespaces/shop"
        )
        for version in ["1.0.0", "2.0.0"] {
            let service = GatewayManifests.service(of: workload, version: version)
            let name = try #require(service.metadata?["name"]?.stringValue)
            _ = try await client.apply(service, at: "/api/v1/namespaces/shop/services/\(name)")
        }
        let path =
            "/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/" + GatewayManifests.routeName(app: "shop")
        let v1 = KubernetesNames.releaseName(app: "shop", version: "1.0.0")
        let v2 = KubernetesNames.releaseName(app: "shop", version: "2.0.0")
        // A canary's steps, as the route's weights: each is stored as written.
        for candidate in [0, 10, 50, 100] {
            let route = GatewayManifests.route(
                of: workload,
                parent: parent,
                weights: [("1.0.0", 100 - candidate), ("2.0.0", candidate)]
            )
            _ = try await client.apply(route, at: path)
            let stored = try await client.get(path)
            #expect(
                GatewayManifests.weights(in: stored).map { "\($0.service)=\($0.weight)" }
                    == ["\(v1)=\(100 - candidate)", "\(v2)=\(candidate)"]
            )
        }
        // The server's validation of the CRD's schema refuses what the Gateway API does not allow, and keeps the
        // route as it was.
        for weight in [-1, GatewayManifests.maximumWeight + 1] {
            let route = GatewayManifests.route(of: workload, parent: parent, weights: [("1.0.0", weight)])
            await #expect {
                _ = try await client.apply(route, at: path)
            } throws: { error in
                guard let error = error as? KubernetesError else { return false }
                return error.code == 422 && error.message.contains("weight")
            }
        }
        #expect(GatewayManifests.weights(in: try await client.get(path)).map(\.weight) == [0, 100])
    }
}
