namespace SliceApi.Infrastructure.Endpoints;

/// <summary>
/// One use case's HTTP endpoint (the "E" of request-endpoint-response). Implementations are found
/// by <see cref="EndpointDiscovery.MapEndpoints"/>; a new slice needs no registration elsewhere.
/// </summary>
internal interface IEndpoint
{
    /// <summary>Maps the endpoint onto <paramref name="api"/>, the route group of its API version (<c>/api/v1</c>).</summary>
    void Map(IEndpointRouteBuilder api);
}
