Console.Error.WriteLine("HubEmulator: not built yet");
return 2;
