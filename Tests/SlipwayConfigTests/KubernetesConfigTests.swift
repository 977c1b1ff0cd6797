import SlipwayConfig
import Testing

@Suite("Kubernetes settings")
struct KubernetesConfigTests {
    @Test func everyKeyAndTheDefaults() throws {
        let app = try ConfigFixtures.app(
            """
            platform: kubernetes
            kubernetes:
              image: "registry.example/shop:{version}"
              namespace: shop
              port: 9090
              serviceAccount: shop-runner
              imagePullPolicy: IfNotPresent
              startTimeout: 2m
              resources:
                requests: {cpu: 250m, memory: 128Mi}
                limits: {memory: 1Gi}
            """
        )
        #expect(
            app.kubernetes
                == AppKubernetesSpec(
                    namespace: "shop",
                    image: "registry.example/shop:{version}",
                    port: 9090,
                    requests: ["cpu": "250m", "memory": "128Mi"],
                    limits: ["memory": "1Gi"],
                    serviceAccount: "shop-runner",
                    imagePullPolicy: "IfNotPresent",
                    startTimeout: .seconds(120)
                )
        )
        let plain = try ConfigFixtures.app("platform: kubernetes\nkubernetes: {image: shop}")
        #expect(plain.kubernetes == AppKubernetesSpec(image: "shop"))
        #expect(plain.kubernetes?.namespace == "default" && plain.kubernetes?.port == 8080)
        // An app on Kubernetes without a top-level `kubernetes` reaches the cluster the kubeconfig way.
        let config = try ConfigFixtures.parse(
            ConfigFixtures.appProblemsYAML("platform: kubernetes\nkubernetes: {image: shop}")
        )
        #expect(config.kubernetes == ClusterSpec())
        #expect(try ConfigFixtures.parse(ConfigFixtures.minimal).kubernetes == nil)
        #expect(try ConfigFixtures.app("platform: local").kubernetes == nil)
    }

    @Test func theClusterIsReachedByKubeconfigOrFromInside() throws {
        let config = try ConfigFixtures.parse(
            "kubernetes:\n  kubeconfig: kube/config\n  context: lab\n" + ConfigFixtures.minimal
        )
        #expect(config.kubernetes == ClusterSpec(kubeconfig: "/srv/shop/kube/config", context: "lab"))
        let inside = try ConfigFixtures.parse("kubernetes: {inCluster: true}\n" + ConfigFixtures.minimal)
        #expect(inside.kubernetes == ClusterSpec(inCluster: true))
        let problems = ConfigFixtures.problems(
            "kubernetes: {inCluster: yes, context: lab, server: x}\n" + ConfigFixtures.minimal
        )
        #expect(problems.contains { $0.contains("kubernetes.inCluster: expected true or false") }, "\(problems)")
        #expect(problems.contains { $0.contains("kubernetes.server: unknown key `server`") }, "\(problems)")
        let both = ConfigFixtures.problems("kubernetes: {inCluster: true, context: lab}\n" + ConfigFixtures.minimal)
        #expect(both.contains { $0.contains("kubernetes.context: `context` and `inCluster: true` cannot both be set") })
    }

    @Test func badSettingsAreReportedWithTheirPaths() {
        let problems = ConfigFixtures.appProblems(
            """
            platform: kubernetes
            kubernetes:
              namespace: Shop_1
              port: 0
              imagePullPolicy: always
              resources:
                requests: {cpu: lots, disk: 1Gi}
            """
        )
        #expect(problems.contains { $0.contains("apps[0].kubernetes: missing required key `image`") }, "\(problems)")
        #expect(problems.contains { $0.contains("apps[0].kubernetes.namespace: expected a DNS label like shop") })
        #expect(problems.contains { $0.contains("apps[0].kubernetes.port: expected an integer from 1 to 65535") })
        #expect(problems.contains { $0.contains("apps[0].kubernetes.imagePullPolicy: expected `Always`") })
        #expect(
            problems.contains { $0.contains("apps[0].kubernetes.resources.requests.cpu: expected a CPU quantity") }
        )
        #expect(problems.contains { $0.contains("apps[0].kubernetes.resources.requests.disk: unknown key `disk`") })
        #expect(problems.allSatisfy { $0.hasPrefix("slipway.yaml:") }, "\(problems)")

        #expect(
            ConfigFixtures.appProblems("platform: cloud").contains {
                $0.contains("apps[0].platform: expected `local` (this machine, or the app's `hosts` over SSH) or")
            }
        )
        #expect(
            ConfigFixtures.appProblems("kubernetes: {image: shop}").contains {
                $0.contains("apps[0].kubernetes: `kubernetes` settings need `platform: kubernetes` on the app")
            }
        )
        #expect(
            ConfigFixtures.appProblems("platform: kubernetes").contains {
                $0.contains("apps[0].kubernetes: an app with `platform: kubernetes` needs `kubernetes` settings")
            }
        )
    }

    @Test func whatKubernetesCannotDoIsRefused() {
        let yaml = """
            hosts:
              - {name: web-1, address: 10.0.0.11}
            apps:
              - name: shop
                listen: 127.0.0.1:8080
                instances: 3
                version: "1.0.0"
                platform: kubernetes
                hosts: [web-1]
                kubernetes: {image: "shop:{version}"}
                run:
                  command: [shop-server]
                  stopSignal: SIGINT
                  artifact: /releases/shop-{version}.tar.gz
            """
        let problems = ConfigFixtures.problems(yaml)
        #expect(problems.contains { $0.contains("apps[0].hosts: an app on Kubernetes runs on the cluster's nodes") })
        #expect(problems.contains { $0.contains("apps[0].run.stopSignal: Kubernetes stops a container with SIGTERM") })
        #expect(problems.contains { $0.contains("apps[0].run.artifact: an app on Kubernetes ships each release") })
    }

    @Test func anEnvironmentCanPutItsCopyOfTheAppOnKubernetes() throws {
        let config = try ConfigFixtures.parse(
            ConfigFixtures.minimal + """

                environments:
                  staging:
                    apps:
                      shop: { listen: 127.0.0.1:8180 }
                  prod:
                    apps:
                      shop: { platform: kubernetes, kubernetes: { image: "shop:{version}", namespace: prod } }
                """
        )
        let apps = Dictionary(uniqueKeysWithValues: config.apps.map { ($0.name, $0) })
        #expect(apps["shop@staging"]?.kubernetes == nil)
        #expect(apps["shop@prod"]?.kubernetes == AppKubernetesSpec(namespace: "prod", image: "shop:{version}"))
        #expect(config.kubernetes == ClusterSpec())
    }
}
