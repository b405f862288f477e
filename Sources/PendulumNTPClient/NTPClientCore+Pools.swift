import PendulumDiscipline

/// Pools: a name standing for many servers, of which `poolCount` are used at once; members that
/// stay unreachable, turn falseticker or are demobilised are replaced by fresh addresses.
extension NTPClientCore {
    /// Takes a source out of selection for good.
    private mutating func retire(_ id: SourceID, because reason: String) -> [ClientAction] {
        guard let source = sources.removeValue(forKey: id) else { return [] }
        discipline.removeSource(id)
        if let poolIndex = source.poolIndex {
            poolRetired[poolIndex, default: []].insert(source.specification.host)
        }
        return [
            .cancelTimer(.poll(id)), .cancelTimer(.deadline(id)), .forget(id),
            .log(.notice, "source \(source.specification.displayAddress) replaced: \(reason)"),
        ]
    }

    /// Replaces the pools' bad members and asks for their names to be looked up when short.
    mutating func maintainPools() -> [ClientAction] {
        var actions: [ClientAction] = []
        for (index, pool) in specifications.enumerated() where pool.mode == .pool {
            for (id, source) in sources.sorted(by: { $0.key < $1.key }) where source.poolIndex == index {
                if source.demobilized {
                    actions += retire(id, because: "demobilised by the server")
                } else if source.polls >= Self.unreachablePollLimit && source.reach == 0 {
                    actions += retire(id, because: "unreachable for \(source.polls) polls")
                } else if source.falsetickerStreak >= Self.falsetickerLimit {
                    actions += retire(id, because: "falseticker in \(source.falsetickerStreak) selections in a row")
                }
            }
            let members = sources.values.filter { $0.poolIndex == index }.count
            if members < pool.poolCount && !poolsResolving.contains(index) {
                poolsResolving.insert(index)
                actions.append(.resolvePool(index, host: pool.host, port: pool.port))
            }
        }
        actions.append(.setTimer(.poolMaintenance, after: Self.poolMaintenanceInterval))
        return actions
    }

    /// A pool's name was looked up: tops the pool up to its `poolCount` servers with addresses
    /// not in use, preferring ones that were never retired.
    public mutating func poolResolved(_ index: Int, addresses: [ResolvedAddress]) -> [ClientAction] {
        poolsResolving.remove(index)
        guard specifications.indices.contains(index), specifications[index].mode == .pool else { return [] }
        let pool = specifications[index]
        let inUse = Set(sources.values.map { $0.address?.host ?? $0.specification.host })
        var candidates: [ResolvedAddress] = []
        for address in addresses where !inUse.contains(address.host) && !candidates.contains(where: { $0.host == address.host }) {
            candidates.append(address)
        }
        let retired = poolRetired[index] ?? []
        var fresh = candidates.filter { !retired.contains($0.host) }
        if fresh.isEmpty && !candidates.isEmpty {
            // Nothing new behind the name: give the retired ones another chance.
            poolRetired[index] = []
            fresh = candidates
        }
        let wanted = pool.poolCount - sources.values.filter { $0.poolIndex == index }.count
        var actions: [ClientAction] = []
        for address in fresh.prefix(max(0, wanted)) {
            let member = SourceSpecification(host: address.host, port: pool.port, mode: .server, poolName: pool.host, polling: pool.polling)
            actions.append(.log(.info, "pool \(pool.host): using \(member.displayAddress)"))
            actions += addSource(member, poolIndex: index, address: address)
        }
        return actions
    }

    public mutating func poolResolutionFailed(_ index: Int, reason: String) -> [ClientAction] {
        poolsResolving.remove(index)
        guard specifications.indices.contains(index) else { return [] }
        return [.log(.warning, "pool \(specifications[index].host): \(reason)")]
    }
}
