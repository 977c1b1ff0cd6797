import Foundation
import SlipwayCore
import SlipwayEngine
import SlipwayProxy

/// Routes: the machine's route plans as the data plane's route tables (slow start for instances joining others that
/// take traffic, rules, stickiness, the preview listener), published in the order they were decided; drains.
extension AppExecutor {
    func apply(_ plan: RoutePlan) {
        if !routesHeldFor.isEmpty {
            heldPlan = plan
            return
        }
        guard plan != routes else { return }
        let before = Set(routes.instances)
        let hadTraffic = !before.isEmpty
        let slowStart = spec.warmup.slowStart
        var versions: [RouteSpec.Version] = []
        for group in plan.groups {
            var instances: [RouteSpec.Instance] = []
            for id in group.instances {
                guard var instance = routeInstance(id) else { continue }
                // Slow start: an instance joining others that already take traffic ramps up its weight.
                if !before.contains(id), !routedOnce.contains(id), hadTraffic, slowStart > .zero {
                    instance.slowStartMs = Int(slowStart.milliseconds)
                }
                routedOnce.insert(id)
                instances.append(instance)
            }
            versions.append(RouteSpec.Version(version: group.version, weight: group.weight, instances: instances))
        }
        let rules: [RouteSpec.Rule] =
            plan.ruleVersion.map { version in
                plan.rules.map { rule in
                    switch rule.condition {
                    case .headerEquals(let name, let value):
                        return RouteSpec.Rule(kind: "header", name: name, value: value, version: version)
                    case .headerMatches(let name, let pattern):
                        return RouteSpec.Rule(kind: "headerPattern", name: name, value: pattern, version: version)
                    case .cookieEquals(let name, let value):
                        return RouteSpec.Rule(kind: "cookie", name: name, value: value, version: version)
                    }
                }
            } ?? []
        let stickiness: String?
        switch plan.stickiness {
        case .cookie(let name)?: stickiness = "cookie:\(name)"
        case .header(let name)?: stickiness = "header:\(name)"
        case nil: stickiness = nil
        }
        let mirror = plan.mirror.map { mirror in
            RouteSpec.Mirror(
                version: mirror.version,
                share: mirror.share,
                methods: mirror.methods,
                maxBodyBytes: mirror.maxBodyBytes
            )
        }
        publish(RouteSpec(versions: versions, rules: rules, stickiness: stickiness, mirror: mirror), to: spec.name)
        routes = plan
        var fields: [String: JSONValue] = [
            "instances": .array(plan.instances.map { .string($0.rawValue) }),
            "weights": .object(plan.percentages.mapValues { .double($0) }),
        ]
        if let mirror = plan.mirror {
            fields["mirror"] = .object([
                "version": .string(mirror.version),
                "percent": .double(Double(mirror.share) / 100),
            ])
        }
        if let previewIDs = plan.preview, let preview {
            let instances = previewIDs.compactMap(routeInstance)
            let version = previewIDs.first.flatMap { runtimes[$0]?.release.version }
            publish(
                instances.isEmpty || version == nil
                    ? .empty
                    : RouteSpec(versions: [RouteSpec.Version(version: version!, weight: 10_000, instances: instances)]),
                to: preview.name
            )
            previewRouted.formUnion(previewIDs)
            fields["preview"] = .array(previewIDs.map { .string($0.rawValue) })
        }
        recorder.record(Event(app: spec.name, kind: .routesChanged, fields: fields))
    }

    private func routeInstance(_ id: InstanceID) -> RouteSpec.Instance? {
        guard let handle = runtimes[id]?.handle else { return nil }
        return RouteSpec.Instance(id: id.rawValue, host: handle.host, port: handle.port)
    }

    /// Sends routes to the data plane after every update decided before them.
    func publish(_ routes: RouteSpec, to name: String) {
        let previous = lastPublish
        let router = self.router
        let logger = self.logger
        lastPublish = Task {
            await previous?.value
            do {
                try await router.setRoutes(name, routes)
            } catch {
                logger.error("cannot set the routes of \(name): \(error)")
            }
        }
    }

    /// The first probe of an adopted instance answered (or it exited): once all have, this controller's routes take
    /// over from the ones the data plane kept.
    func releaseHeldRoutes(for id: InstanceID) {
        guard routesHeldFor.remove(id) != nil, routesHeldFor.isEmpty, let plan = heldPlan else { return }
        heldPlan = nil
        apply(plan)
    }

    /// Returns once the data plane has every route update decided so far.
    func routesPublished() async {
        await lastPublish?.value
    }

    /// Waits for an instance taken out of the routes to finish its in-flight requests, bounded by the drain timeout.
    func drain(_ id: InstanceID) async {
        let started = ContinuousClock.now
        await lastPublish?.value
        let timeout = spec.proxy.drainTimeout
        if let preview { _ = try? await router.drain(preview.name, instances: [id.rawValue], timeout: timeout) }
        let busy = (try? await router.drain(spec.name, instances: [id.rawValue], timeout: timeout)) ?? []
        recorder.record(
            Event(
                app: spec.name,
                kind: .instanceDrained,
                instance: id,
                fields: [
                    "tookMs": .int(Int((ContinuousClock.now - started).milliseconds)),
                    "timedOut": .bool(!busy.isEmpty),
                    "inFlightLeft": .int(busy.count),
                ]
            )
        )
    }
}

/// Chaos steps: a rollout's fault goes through the chaos desk (recorded, expiring by itself, refused while chaos is
/// stopped), in the same order as the routes, so a metrics window sampled after a change sees the fault as decided.
extension AppExecutor {
    /// Who owns the faults of rollout `number`.
    func chaosOwner(rollout number: Int) -> String { "rollout \(spec.name) #\(number)" }

    func applyChaosFault(_ step: ChaosStepFault?, rollout number: Int) {
        let owner = chaosOwner(rollout: number)
        guard let chaos = context.chaos else {
            if step != nil { feed(.chaosFaultFailed("this controller has no chaos desk", rollout: number)) }
            return
        }
        let previous = lastPublish
        lastPublish = Task {
            await previous?.value
            await chaos.removeFaults(owner: owner, reason: step == nil ? "theChaosStepEnded" : "replaced")
            guard let step else { return }
            let request = FaultRequest(
                fault: FaultSpec(step: step.fault),
                duration: step.lifetime,
                by: owner,
                reason: "chaos step \(step.step + 1) of rollout #\(number)",
                owner: owner
            )
            do throws(CommandRefusal) {
                _ = try await chaos.addFault(app: step.app, request)
            } catch {
                self.feed(.chaosFaultFailed(error.message, rollout: number))
            }
        }
    }

    /// Takes away the fault of a chaos step in progress: a controller that stops leaves no fault on users while no
    /// one judges it (a restarted controller starts the step again). A controller killed outright leaves it to
    /// expire by itself.
    func removeChaosStepFault() async {
        guard let running = machine.running, running.publishedChaosFault != nil, let chaos = context.chaos else {
            return
        }
        await lastPublish?.value
        await chaos.removeFaults(owner: chaosOwner(rollout: running.plan.number), reason: "theControllerStopped")
    }
}
