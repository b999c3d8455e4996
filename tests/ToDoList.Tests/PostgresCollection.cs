namespace ToDoList.Tests;

/// <summary>Test classes on PostgreSQL: they share the run's cluster, which stops once the last of them is done.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCollection.Cluster>
{
    public const string Name = "PostgreSQL";

    /// <summary>Starts the cluster before the collection's first class, and stops it after its last.</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        public Task InitializeAsync() => PostgresServer.GetAsync();

        public Task DisposeAsync() => PostgresServer.StopAsync();
    }
}
