namespace SliceApi.Infrastructure.Endpoints;

/// <summary>
/// One use case's HTTP endpoint (the "E" of request-endpoint-response). Implementations are found
/// by <see cref="EndpointDiscovery.MapEndpoints(WebApplication)"/>; a new slice needs no registration elsewhere.
/// </summary>
internal interface IEndpoint
{
    /// <summary>
    /// The API version this endpoint belongs to: it is mapped under <c>/api/v{Version}</c> and listed in
    /// <c>/openapi/v{Version}.json</c>. 1 unless the slice says otherwise.
    /// </summary>
    int Version => 1;

    /// <summary>Maps the endpoint onto <paramref name="api"/>, the route group of its API version (e.g. <c>/api/v1</c>).</summary>
    void Map(IEndpointRouteBuilder api);
}
