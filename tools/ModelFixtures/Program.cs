Console.Error.WriteLine("ModelFixtures: not built yet");
return 2;
