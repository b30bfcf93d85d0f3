using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Marten;
using OpenIddict.Abstractions;
using SliceApi.Infrastructure.Security;

namespace SliceApi.Features.OAuth;

/// <summary>
/// A scope an app may ask for (OpenIddict's scope entity), a Marten document (table <c>mt_doc_oauthscope</c>): its name,
/// and what it lets an app do in words. The API's scopes are written at start-up (<see cref="OAuthScopeSeeding"/>);
/// OpenIddict reads them to refuse a requested scope that is not one of them.
/// </summary>
public sealed class OAuthScope : IOAuthDocument
{
    /// <summary>The scope's id, a version-7 GUID.</summary>
    public Guid Id { get; set; }

    /// <summary>The scope as apps send it, e.g. <c>tasks:read</c>; unique.</summary>
    public string? Name { get; set; }

    /// <summary>What the scope lets an app do, as the consent page says it.</summary>
    public string? DisplayName { get; set; }

    /// <summary>Localized display names by culture name (unused by the API, kept for OpenIddict).</summary>
    public Dictionary<string, string> DisplayNames { get; set; } = [];

    /// <summary>A longer description, or null.</summary>
    public string? Description { get; set; }

    /// <summary>Localized descriptions by culture name (unused by the API, kept for OpenIddict).</summary>
    public Dictionary<string, string> Descriptions { get; set; } = [];

    /// <summary>The resource servers (audiences) the scope is for (none: SliceApi is the only one).</summary>
    public string[] Resources { get; set; } = [];

    /// <summary>Further properties as a JSON object, or null.</summary>
    public string? Properties { get; set; }

    /// <inheritdoc/>
    public string? ConcurrencyToken { get; set; } = Guid.NewGuid().ToString();
}

/// <summary>The storage of <see cref="OAuthScope"/>: the name unique (every token request with scopes looks it up).</summary>
internal sealed class OAuthScopeMapping : IConfigureMarten
{
    public void Configure(IServiceProvider services, StoreOptions options) =>
        options.Schema.For<OAuthScope>().Duplicate(s => s.Name!, configure: ix => { ix.IsUnique = true; ix.Name = "ux_oauth_scope_name"; });
}

/// <summary>OpenIddict's scope store on Marten (see <see cref="MartenStore{T}"/> for sessions and concurrency).</summary>
#pragma warning disable CS8714 // OpenIddict's query results may be nullable; Marten's LINQ extensions are annotated notnull only
internal sealed class MartenScopeStore(IDocumentStore store) : MartenStore<OAuthScope>(store), IOpenIddictScopeStore<OAuthScope>
{
    public async ValueTask<OAuthScope?> FindByNameAsync(string name, CancellationToken cancellationToken)
    {
        await using var session = Store.QuerySession();
        return await session.Query<OAuthScope>().FirstOrDefaultAsync(s => s.Name == name, cancellationToken);
    }

    public IAsyncEnumerable<OAuthScope> FindByNamesAsync(ImmutableArray<string> names, CancellationToken cancellationToken)
    {
        var wanted = names.ToArray();
        return ListWhereAsync(s => wanted.Contains(s.Name!), cancellationToken);
    }

    public IAsyncEnumerable<OAuthScope> FindByResourceAsync(string resource, CancellationToken cancellationToken) =>
        ListWhereAsync(s => s.Resources.Contains(resource), cancellationToken);

    public ValueTask<string?> GetDescriptionAsync(OAuthScope scope, CancellationToken cancellationToken) => new(scope.Description);

    public ValueTask<ImmutableDictionary<CultureInfo, string>> GetDescriptionsAsync(OAuthScope scope, CancellationToken cancellationToken) =>
        new(scope.Descriptions.ToImmutableDictionary(p => CultureInfo.GetCultureInfo(p.Key), p => p.Value));

    public ValueTask<string?> GetDisplayNameAsync(OAuthScope scope, CancellationToken cancellationToken) => new(scope.DisplayName);

    public ValueTask<ImmutableDictionary<CultureInfo, string>> GetDisplayNamesAsync(OAuthScope scope, CancellationToken cancellationToken) =>
        new(scope.DisplayNames.ToImmutableDictionary(p => CultureInfo.GetCultureInfo(p.Key), p => p.Value));

    public ValueTask<string?> GetNameAsync(OAuthScope scope, CancellationToken cancellationToken) => new(scope.Name);

    public ValueTask<ImmutableDictionary<string, JsonElement>> GetPropertiesAsync(OAuthScope scope, CancellationToken cancellationToken) =>
        new(ReadProperties(scope.Properties));

    public ValueTask<ImmutableArray<string>> GetResourcesAsync(OAuthScope scope, CancellationToken cancellationToken) => new([.. scope.Resources]);

    public ValueTask SetDescriptionAsync(OAuthScope scope, string? description, CancellationToken cancellationToken) => Set(() => scope.Description = description);

    public ValueTask SetDescriptionsAsync(OAuthScope scope, ImmutableDictionary<CultureInfo, string> descriptions, CancellationToken cancellationToken) =>
        Set(() => scope.Descriptions = descriptions.ToDictionary(p => p.Key.Name, p => p.Value));

    public ValueTask SetDisplayNameAsync(OAuthScope scope, string? name, CancellationToken cancellationToken) => Set(() => scope.DisplayName = name);

    public ValueTask SetDisplayNamesAsync(OAuthScope scope, ImmutableDictionary<CultureInfo, string> names, CancellationToken cancellationToken) =>
        Set(() => scope.DisplayNames = names.ToDictionary(p => p.Key.Name, p => p.Value));

    public ValueTask SetNameAsync(OAuthScope scope, string? name, CancellationToken cancellationToken) => Set(() => scope.Name = name);

    public ValueTask SetPropertiesAsync(OAuthScope scope, ImmutableDictionary<string, JsonElement> properties, CancellationToken cancellationToken) =>
        Set(() => scope.Properties = WriteProperties(properties));

    public ValueTask SetResourcesAsync(OAuthScope scope, ImmutableArray<string> resources, CancellationToken cancellationToken) =>
        Set(() => scope.Resources = [.. resources]);
}
#pragma warning restore CS8714

/// <summary>
/// Writes the API's scopes (<see cref="ApiScopes.Descriptions"/>) as scope documents when the host starts, through
/// OpenIddict's scope manager: a missing one is created, one whose words changed is updated. Instances starting at once
/// may both try to create one: the manager's own check or the unique name lets one win, and the other logs it and starts
/// (a failure here never stops the host).
/// </summary>
internal sealed partial class OAuthScopeSeeding(IServiceScopeFactory scopes, ILogger<OAuthScopeSeeding> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictScopeManager>();
        foreach (var (name, words) in ApiScopes.Descriptions)
        {
            try
            {
                if (await manager.FindByNameAsync(name, cancellationToken) is not OAuthScope stored)
                {
                    await manager.CreateAsync(new OpenIddictScopeDescriptor { Name = name, DisplayName = words }, cancellationToken);
                }
                else if (stored.DisplayName != words)
                {
                    stored.DisplayName = words;
                    await manager.UpdateAsync(stored, cancellationToken);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // Another instance wrote it first (OpenIddict's name check, or the unique index: JasperFx's
                // DocumentAlreadyExistsException), or the database is away: either way the host starts.
                LogSeedFailed(logger, name, exception.Message);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "The OAuth scope {Scope} was not written ({Reason}); another instance may have written it first")]
    private static partial void LogSeedFailed(ILogger logger, string scope, string reason);
}
